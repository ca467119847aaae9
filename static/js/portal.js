// The portal's browser-side trust layer, decided once for every screen (no inline script: strict CSP).
//
// - Errors never destroy content: an error answer (see portal/views/errors.py) is never swapped over its
//   target; a problem with the row acted on is shown inside the row, a problem with the page in the page's
//   alert region with the next step.
// - No typed text is lost: fields that are not saved yet are carried over every swap, kept in localStorage
//   (restored after logging in again or reloading), saved when the field is left, and leaving the page
//   warns while anything is unsaved.
// - The last click wins: requests from one row are queued (hx-sync in the templates) and only the answer to
//   the latest one is swapped; the clicked control shows a pending state at once.
// - Focus stays on the same control after a swap (matched by id); results and errors are announced through
//   the one live region (#announcer).
// - One record per intent: a form that is being sent cannot be sent again until it is answered.
// - A note travels with a result click or an upload only when it was typed in this tab and not yet saved;
//   a click never sends text the person has not touched (it could be older than another person's save),
//   and never while another person's text stands beside it (the person decides, with "Save note").
// - A draft restored from this browser's storage is shown, marked unsaved, with "save" and "discard": it is
//   never saved by itself (it may be another tab's half-typed text or an abandoned one).
(function () {
  "use strict";

  var DRAFT_PREFIX = "portal-draft:";
  var AUTOSAVE_DELAY = 400;
  var DRAFT_DAYS = 7;  // drafts are kept per person (the key holds the user id) for a week
  var sequence = 0;
  var latestByRow = {};

  function text(name) {
    var holder = document.getElementById("portal-texts");
    return (holder && holder.dataset[name]) || "";
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // --- announcements --------------------------------------------------------------------------------
  // Each message is a new line in the live region (a later one never cuts off an earlier one: a refused
  // upload and the note saved a moment later are both heard); old lines go after a while.
  function announce(message) {
    var region = document.getElementById("announcer");
    if (!region || !message) return;
    window.setTimeout(function () {
      var line = document.createElement("p");
      line.textContent = message;
      region.appendChild(line);
      while (region.childElementCount > 3) region.removeChild(region.firstElementChild);
      window.setTimeout(function () { if (line.parentNode) line.remove(); }, 15000);
    }, 30);
  }

  // --- page-level alert -----------------------------------------------------------------------------
  function showPageAlert(node) {
    var region = document.getElementById("page-alert");
    if (!region) return;
    region.textContent = "";
    region.appendChild(node);
    var close = document.createElement("button");
    close.type = "button";
    close.className = "button button--small page-alert__close";
    close.textContent = text("close") || "×";
    close.addEventListener("click", hidePageAlert);
    region.appendChild(close);
    region.hidden = false;
  }

  function hidePageAlert() {
    var region = document.getElementById("page-alert");
    if (region && !region.hidden) { region.hidden = true; region.textContent = ""; }
  }

  function messageNode(html) {
    var template = document.createElement("template");
    template.innerHTML = html || "";
    return template.content.querySelector(".portal-error");
  }

  // A problem the portal itself did not describe (no connection, a proxy's or server's bare error page).
  function genericNode(message) {
    var node = document.createElement("div");
    node.className = "portal-error flash flash--error";
    node.setAttribute("data-scope", "page");
    var p = document.createElement("p");
    p.textContent = message;
    node.appendChild(p);
    var next = document.createElement("p");
    next.className = "portal-error__next";
    var reload = document.createElement("a");
    reload.className = "button";
    reload.href = window.location.href;
    reload.setAttribute("data-reload", "");
    reload.textContent = text("reload");
    next.appendChild(reload);
    node.appendChild(next);
    return node;
  }

  // Is an error answer the portal's own fragment (e.g. a row with its message, a form with its errors), rather
  // than a whole error page from a proxy or a server that never reached the portal?
  function answersTarget(ctx) {
    var body = ctx.text || "";
    if (/<(html|title)[\s>]/i.test(body)) return false;
    var template = document.createElement("template");
    template.innerHTML = body;
    return template.content.children.length > 0;
  }

  // The row an element belongs to: the swap target of its requests (a checklist item, a table row).
  function rowOf(ctx) {
    var target = ctx && ctx.target;
    if (target && target.nodeType === 1) return target;
    return ctx && ctx.sourceElement ? ctx.sourceElement.closest("[data-row]") : null;
  }

  function errorSlot(ctx) {
    var row = rowOf(ctx);
    var slot = row && row.querySelector("[data-error-slot]");
    if (slot) return slot;
    var source = ctx.sourceElement;
    var anchor = (source && (source.closest("form") || source)) || null;
    if (!anchor || !anchor.isConnected) return null;
    slot = anchor.parentNode.querySelector(":scope > [data-error-slot]");
    if (!slot) {
      slot = document.createElement("div");
      slot.setAttribute("data-error-slot", "");
      slot.className = "inline-error";
      anchor.insertAdjacentElement("afterend", slot);
    }
    return slot;
  }

  function showRowError(ctx, node, alsoOnPage) {
    var slot = errorSlot(ctx);
    if (!slot) { if (alsoOnPage) showPageAlert(node); return; }
    slot.textContent = "";
    slot.appendChild(node);
    slot.setAttribute("data-error-from", actionOf(ctx));
    slot.hidden = false;
  }

  // "Not saved." leads a problem's brief only when the request was to save something: a read (a page
  // following an import, a filter) has nothing that could have been saved.
  function saving(ctx) {
    return isWrite(ctx) ? text("notSaved") + " " : "";
  }

  function isWrite(ctx) {
    var method = ctx && ctx.request && ctx.request.method;
    return !!method && method.toUpperCase() !== "GET";
  }

  // A problem's text: a read (a filter, figures that follow a table) has nothing typed to keep ("…Read").
  function problemText(ctx, name) {
    return (!isWrite(ctx) && text(name + "Read")) || text(name);
  }

  // An answer that is not shown leaves the page as it was: its address too (hx-push-url would show the new
  // filters above the old table).
  function keepPage(ctx) {
    ctx.swap = "none";
    ctx.push = null;
    ctx.replace = null;
  }

  function handleErrorAnswer(ctx) {
    var node = messageNode(ctx.text);
    keepPage(ctx);  // whatever the server said: an error never replaces the person's work
    if (!node) return;
    node.removeAttribute("role");
    if (node.getAttribute("data-scope") === "page") {
      showPageAlert(node);
      var brief = document.createElement("p");
      brief.className = "flash flash--error";
      brief.textContent = saving(ctx) + (node.querySelector("strong") || node).textContent;
      showRowError(ctx, brief);
    } else {
      showRowError(ctx, node, true);
    }
    markPendingFieldsUnsaved(rowOf(ctx));
    var row = rowOf(ctx);
    var number = row && row.querySelector(".item__number");
    announce(((number ? number.textContent + " " : "") + node.textContent).replace(/\s+/g, " ").trim());
  }

  // --- pending state and "last click wins" ----------------------------------------------------------
  function clearPending(row) {
    if (!row) return;
    row.removeAttribute("aria-busy");
    row.querySelectorAll("[aria-busy]").forEach(function (el) {
      el.removeAttribute("aria-busy");
      el.classList.remove("is-pending");
    });
  }

  function markPending(ctx) {
    var row = rowOf(ctx);
    var control = ctx.request.submitter || ctx.sourceElement;
    if (row && row.id) {
      clearPending(row);
      row.setAttribute("aria-busy", "true");
    }
    if (control && control.setAttribute) {
      control.setAttribute("aria-busy", "true");
      control.classList.add("is-pending");
    }
  }

  function isLatest(ctx) {
    return !ctx.portalRow || latestByRow[ctx.portalRow] === ctx.portalSeq;
  }

  // --- typed text: unsaved state, drafts, carry-over ------------------------------------------------
  function draftFields(root) {
    return Array.prototype.slice.call((root || document).querySelectorAll("textarea[data-draft-key]"));
  }

  function isDirty(field) {
    return field.value !== field.defaultValue || field.hasAttribute("data-unsaved");
  }

  function readDraft(field) {
    try {
      var raw = window.localStorage.getItem(DRAFT_PREFIX + field.dataset.draftKey);
      var draft = raw ? JSON.parse(raw) : null;
      if (draft && Date.now() - draft.at > DRAFT_DAYS * 86400000) {  // a forgotten draft is not revived
        dropDraft(field);
        return null;
      }
      return draft;
    } catch (e) {
      return null;
    }
  }

  function writeDraft(field) {
    try {
      var version = field.form && field.form.querySelector("[name$=_version]");
      window.localStorage.setItem(DRAFT_PREFIX + field.dataset.draftKey, JSON.stringify(
        {text: field.value, version: version ? version.value : null, at: Date.now()}));
    } catch (e) { /* private mode or full: the field itself still holds the text */ }
  }

  function dropDraft(field) {
    try { window.localStorage.removeItem(DRAFT_PREFIX + field.dataset.draftKey); } catch (e) { /* ignore */ }
  }

  function saveState(field, state) {
    var holder = field.form && field.form.querySelector("[data-save-state]");
    if (!holder) return;
    holder.textContent = state ? text(state) : "";
    holder.setAttribute("data-state", state || "");
  }

  function markPendingFieldsUnsaved(root) {
    draftFields(root).forEach(function (field) {
      if (field.value !== field.defaultValue) saveState(field, "unsaved");
    });
  }

  // After a swap (or on load): keep the draft of what is not saved yet, forget the draft of what is. A draft
  // that differs from the saved text is put back in its field, marked unsaved, and left to the person: saved
  // with "Save note" (against the version it was typed on, so a newer save by someone else is a conflict,
  // never overwritten) or thrown away with "Discard".
  function reconcileDrafts(root) {
    draftFields(root).forEach(function (field) {
      var draft = readDraft(field);
      if (!draft) return;
      if (draft.text === field.defaultValue && !field.hasAttribute("data-unsaved")) {
        dropDraft(field);
      } else if (field.value === field.defaultValue && draft.text !== field.value &&
                 !field.hasAttribute("data-unsaved") && !field.hasAttribute("data-conflict")) {
        var version = versionField(field);
        field.setAttribute("data-server-version", version ? version.value : "");
        field.value = draft.text;
        if (version && draft.version != null) version.value = draft.version;
        field.setAttribute("data-restored", "");
        var details = field.closest("details");
        if (details) details.open = true;
        saveState(field, "restored");
        offerDiscard(field);
        announce(text("restored"));
      }
    });
  }

  function versionField(field) {
    return field.form && field.form.querySelector("[name$=_version]");
  }

  function offerDiscard(field) {
    var holder = field.form && field.form.querySelector("[data-save-state]");
    if (!holder || holder.parentNode.querySelector("[data-discard-draft]")) return;
    var discard = document.createElement("button");
    discard.type = "button";
    discard.className = "button button--small";
    discard.setAttribute("data-discard-draft", field.id);
    discard.textContent = text("discard");
    holder.insertAdjacentElement("afterend", discard);
  }

  function settleRestored(field) {
    field.removeAttribute("data-restored");
    var discard = field.form && field.form.querySelector("[data-discard-draft]");
    if (discard) discard.remove();
  }

  document.addEventListener("click", function (evt) {
    var discard = evt.target.closest && evt.target.closest("[data-discard-draft]");
    if (!discard) return;
    var field = document.getElementById(discard.getAttribute("data-discard-draft"));
    if (!field) return;
    field.value = field.defaultValue;
    var version = versionField(field);
    if (version && field.hasAttribute("data-server-version")) version.value = field.getAttribute("data-server-version");
    dropDraft(field);
    settleRestored(field);
    saveState(field, "");
    announce(text("discarded"));
    field.focus();
  });

  var autosaveTimers = {};

  function scheduleAutosave(field) {
    var id = field.id;
    if (!id || !field.form || !field.hasAttribute("data-autosave")) return;
    window.clearTimeout(autosaveTimers[id]);
    autosaveTimers[id] = window.setTimeout(function () {
      var current = document.getElementById(id);  // the row may have been replaced meanwhile
      // Not while another person's text stands beside it: after a conflict the person decides.
      if (!current || current === document.activeElement || !current.form || current.hasAttribute("data-conflict") ||
          current.hasAttribute("data-restored")) return;
      // A request of the row is under way (a result click or upload that carries the text itself):
      // look again once it is answered.
      var row = current.closest("[data-row]");
      if (row && row.getAttribute("aria-busy") === "true") { scheduleAutosave(current); return; }
      if (current.value !== current.defaultValue || current.hasAttribute("data-unsaved")) {
        current.form.requestSubmit();
      }
    }, AUTOSAVE_DELAY);
  }

  document.addEventListener("input", function (evt) {
    var field = evt.target;
    if (!field.matches || !field.matches("textarea[data-draft-key]")) return;
    settleRestored(field);  // typing in a restored draft makes it the person's text again
    if (field.value === field.defaultValue && !field.hasAttribute("data-unsaved")) {
      dropDraft(field);
      saveState(field, "saved");
    } else {
      writeDraft(field);
      saveState(field, "unsaved");
    }
  });

  document.addEventListener("focusout", function (evt) {
    var field = evt.target;
    if (field.matches && field.matches("textarea[data-autosave]") && isDirty(field)) scheduleAutosave(field);
  });

  // --- drafts of whole-page forms (a post, a pledge, a project, a review…) ------------------------------
  // What is typed in a form that sends the whole page is kept in this browser (per person, form and field)
  // until the portal has taken it: a refused send (expired session, stale form, database down) or a page
  // left by mistake never loses it; the next time the form is opened it is offered again (save or discard).
  // A draft marked "sent" is dropped once a page other than the log-in or an error page is reached (the
  // send worked), or once the form shows it as saved.
  var PAGE_DRAFT = "form:";

  function pageFields(root) {
    return Array.prototype.filter.call((root || document).querySelectorAll(
      "form[method=post]:not([hx-post]) textarea[id], form[method=post]:not([hx-post]) input[type=text][id], " +
      "form[method=post]:not([hx-post]) input:not([type])[id]"),  /* an input without a type is a text input */
    function (field) { return !field.closest("[data-no-guard]") && !field.hasAttribute("data-draft-key"); });
  }

  function pageDraftKey(field) {
    var user = text("user");
    var form = field.form;
    if (!user || !form) return null;
    var action = new URL(form.getAttribute("action") || window.location.pathname, window.location.href).pathname;
    return DRAFT_PREFIX + PAGE_DRAFT + user + ":" + action + "#" + field.id;
  }

  function readStored(key) {
    try { return JSON.parse(window.localStorage.getItem(key) || "null"); } catch (e) { return null; }
  }

  function store(key, value) {
    try {
      if (value === null) window.localStorage.removeItem(key);
      else window.localStorage.setItem(key, JSON.stringify(value));
    } catch (e) { /* private mode or full: the field itself still holds the text */ }
  }

  document.addEventListener("input", function (evt) {
    var field = evt.target;
    if (!field.matches || pageFields(field.form || undefined).indexOf(field) < 0) return;
    var key = pageDraftKey(field);
    if (!key) return;
    settlePageRestored(field);
    store(key, field.value === field.defaultValue ? null : {text: field.value, at: Date.now()});
  });

  document.addEventListener("submit", function (evt) {
    if (evt.defaultPrevented || !evt.target.matches || evt.target.hasAttribute("hx-post")) return;
    pageFields(evt.target).forEach(function (field) {
      var key = pageDraftKey(field);
      if (key && field.value !== field.defaultValue) store(key, {text: field.value, at: Date.now(), sent: true});
    });
  });

  function settlePageRestored(field) {
    if (!field.hasAttribute("data-restored")) return;
    field.removeAttribute("data-restored");
    var notice = document.getElementById(field.id + "-draft");
    if (notice) notice.remove();
  }

  function offerPageDraft(field, key, draft) {
    field.value = draft.text;
    field.setAttribute("data-restored", "");
    var notice = document.createElement("p");
    notice.className = "draft-notice";
    notice.id = field.id + "-draft";
    notice.setAttribute("role", "status");
    notice.textContent = text("restoredForm") + " ";
    var discard = document.createElement("button");
    discard.type = "button";
    discard.className = "button button--small";
    discard.textContent = text("discard");
    discard.addEventListener("click", function () {
      field.value = field.defaultValue;
      store(key, null);
      settlePageRestored(field);
      announce(text("discarded"));
      field.focus();
    });
    notice.appendChild(discard);
    field.insertAdjacentElement("afterend", notice);
    var details = field.closest("details");
    if (details) details.open = true;
  }

  function reconcilePageDrafts() {
    if (!text("user")) return;
    var prefix = DRAFT_PREFIX + PAGE_DRAFT + text("user") + ":";
    var keepsDrafts = !!document.querySelector("[data-keeps-drafts]");
    var here = {};
    pageFields(document).forEach(function (field) { var key = pageDraftKey(field); if (key) here[key] = field; });
    var keys = [];
    try {
      for (var i = 0; i < window.localStorage.length; i++) {
        var key = window.localStorage.key(i);
        if (key && key.indexOf(prefix) === 0) keys.push(key);
      }
    } catch (e) { return; }
    keys.forEach(function (key) {
      var draft = readStored(key);
      if (!draft || Date.now() - draft.at > DRAFT_DAYS * 86400000) { store(key, null); return; }
      var field = here[key];
      if (field) {
        var refused = field.form && field.form.querySelector(".field__error, .conflict, [data-conflict-notice]");
        if (field.value === draft.text && refused) {
          // Drawn again as typed beside an error or another person's text: still not saved.
          store(key, {text: draft.text, at: draft.at});
          field.setAttribute("data-unsent", "");
        } else if (field.value === draft.text) {
          store(key, null);  // the form shows it as saved
        } else if (field.value === field.defaultValue) {
          offerPageDraft(field, key, draft);
        }
      } else if (draft.sent && !keepsDrafts) {
        store(key, null);  // sent, and the portal went on to another page: it was taken
      }
    });
  }

  // The next steps offered by the page alert (log in again, reload) leave on purpose: the drafts are kept.
  var leavingOnPurpose = false;
  document.addEventListener("click", function (evt) {
    if (evt.target.closest && evt.target.closest("#page-alert a")) leavingOnPurpose = true;
  }, true);

  // Every form that sends something (pledges, posts, projects, reviews, notes…): text typed and not sent.
  var TYPED = "form[method=post] textarea, form[method=post] input[type=text], form[method=post] input:not([type])";

  function typedAndNotSent() {
    return Array.prototype.some.call(document.querySelectorAll(TYPED), function (field) {
      return (field.value !== field.defaultValue || field.hasAttribute("data-unsent")) &&
        !field.closest("[data-no-guard]") && !field.hasAttribute("data-restored");
    });
  }

  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    // A whole-page form sent on purpose leaves the page with its text; an htmx form stays on the page.
    if (!evt.defaultPrevented && form.matches && !form.hasAttribute("hx-post")) leavingOnPurpose = true;
  });

  window.addEventListener("pageshow", function () { leavingOnPurpose = false; });

  window.addEventListener("beforeunload", function (evt) {
    if (leavingOnPurpose) return;
    var unsaved = typedAndNotSent();
    if (unsaved) {
      evt.preventDefault();
      evt.returnValue = text("leave");
      return text("leave");
    }
  });

  // --- htmx request lifecycle -----------------------------------------------------------------------
  // A click or an upload carries the row's note only when it was typed in this tab and is not saved yet, and
  // not while another person's text stands beside it or a restored draft waits for the person's decision.
  // Otherwise the note (and its version) are left out and the server keeps the saved note as it is.
  function dropUntypedNote(ctx, row) {
    var body = ctx.request.body;
    if (!body || !body.has || !body.has("note") || !row) return;
    var form = ctx.request.form;
    if (form && form.querySelector("textarea[name=note]")) return;  // the note's own form: an explicit save
    var field = row.querySelector("textarea[name=note]");
    var carry = field && isDirty(field) && !field.hasAttribute("data-conflict") && !field.hasAttribute("data-restored");
    if (!carry) {
      body.delete("note");
      body.delete("note_version");
    }
  }

  // Saves queued in one row are sent one after another, each built when it was clicked: a later one still
  // names the version the earlier one replaced. When that earlier save was this tab's own and succeeded,
  // the later one follows on from the version it made (never across another person's save: that stays a
  // conflict).
  var ownSaves = {};  // row id -> {version sent: version made}

  function followOwnSaves(ctx) {
    var body = ctx.request && ctx.request.body;
    if (!ctx.portalRow || !body || !body.get || !body.has("note_version")) return;
    var chain = ownSaves[ctx.portalRow] || {};
    var version = body.get("note_version");
    var seen = 0;
    while (Object.prototype.hasOwnProperty.call(chain, version) && seen++ < 50) version = chain[version];
    body.set("note_version", version);
    ctx.portalNoteVersion = version;
  }

  // Read from the answer as soon as it arrives: the row's next request may be issued before it is swapped.
  function recordOwnSave(ctx) {
    if (!ctx.portalRow || ctx.portalNoteVersion == null || !ctx.text) return;
    var answer = document.createElement("template");
    answer.innerHTML = ctx.text;
    var made = answer.content.querySelector("input[name=note_version]");
    if (!made || made.value === ctx.portalNoteVersion) return;
    (ownSaves[ctx.portalRow] = ownSaves[ctx.portalRow] || {})[ctx.portalNoteVersion] = made.value;
  }

  // A message about one action of a row (a refused upload) stays in the row while other actions of the
  // row redraw it (a note saved on leaving the field); the next try of the same action replaces it.
  function actionOf(ctx) {
    var form = ctx.request && ctx.request.form;
    return (form && form.getAttribute("action")) || (ctx.request && ctx.request.action) || "";
  }

  function clearOwnError(ctx, row) {
    var slot = row && row.querySelector("[data-error-slot]");
    if (!slot) return;
    var from = slot.getAttribute("data-error-from");
    if (!from || from === actionOf(ctx)) {
      slot.textContent = "";
      slot.removeAttribute("data-error-from");
      slot.removeAttribute("data-server-error");
    }
  }

  function carryError(ctx, target) {
    var slot = target && target.querySelector("[data-error-slot]");
    if (slot && slot.textContent.trim() && slot.getAttribute("data-error-from") &&
        slot.getAttribute("data-error-from") !== actionOf(ctx)) {
      ctx.portalCarriedError = {html: slot.innerHTML, from: slot.getAttribute("data-error-from")};
    }
  }

  function restoreCarriedError(ctx, root) {
    var slot = root && root.querySelector("[data-error-slot]");
    if (!slot) return;
    if (ctx.response && ctx.response.status >= 400 && slot.textContent.trim()) {
      slot.setAttribute("data-error-from", actionOf(ctx));  // the server drew this action's error in the row
    } else if (ctx.portalCarriedError && !slot.textContent.trim()) {
      slot.innerHTML = ctx.portalCarriedError.html;
      slot.setAttribute("data-error-from", ctx.portalCarriedError.from);
    }
  }

  // Back or Forward moves the page to another address: an answer to a request made before it (a filter, a page of
  // a table) would swap in a view and push an address the person has just left.
  var historyMoves = 0;
  window.addEventListener("popstate", function () { historyMoves++; });

  document.addEventListener("htmx:config:request", function (evt) {
    var ctx = evt.detail && evt.detail.ctx;
    if (!ctx || !ctx.request) return;
    ctx.portalHistoryMoves = historyMoves;
    if (ctx.request.headers) ctx.request.headers["X-CSRFToken"] = csrfToken();
    var row = rowOf(ctx);
    if (row && row.id) {
      ctx.portalRow = row.id;
      ctx.portalSeq = ++sequence;
      latestByRow[row.id] = ctx.portalSeq;
      clearOwnError(ctx, row);
      dropUntypedNote(ctx, row);
    }
    markPending(ctx);
    draftFields(row).forEach(function (field) {
      if (ctx.request.body && ctx.request.body.get && ctx.request.body.get(field.name) === field.value &&
          isDirty(field)) {
        saveState(field, "saving");
      }
    });
  });

  document.addEventListener("htmx:before:request", function (evt) {
    var ctx = evt.detail && evt.detail.ctx;
    if (ctx) followOwnSaves(ctx);  // issued now, after the row's earlier requests were answered
    var form = ctx && ctx.request && ctx.request.form;
    if (form && form.hasAttribute("data-create")) disableSubmits(form);
  });

  document.addEventListener("htmx:after:request", function (evt) {
    var ctx = evt.detail && evt.detail.ctx;
    if (!ctx || !ctx.response) return;
    if ((ctx.push || ctx.replace) && ctx.portalHistoryMoves !== historyMoves) {
      keepPage(ctx);  // made before Back or Forward: the view it would show has been left
      return;
    }
    // An earlier answer from the same row replaced it: swap into its successor (same id).
    if (ctx.target && ctx.target.nodeType === 1 && !ctx.target.isConnected && ctx.target.id) {
      ctx.target = document.getElementById(ctx.target.id) || ctx.target;
    }
    if (ctx.response.status < 400) {
      recordOwnSave(ctx);
      hidePageAlert();  // the portal answers again: an earlier page-level problem is over
      return;
    }
    if (messageNode(ctx.text)) {
      if (isLatest(ctx)) handleErrorAnswer(ctx);
      else keepPage(ctx);
    } else if (!answersTarget(ctx)) {
      keepPage(ctx);
      if (isLatest(ctx)) showGenericProblem(ctx, problemText(ctx, "serverError"));
    }
  });

  function showGenericProblem(ctx, message) {
    showPageAlert(genericNode(message));
    var brief = document.createElement("p");
    brief.className = "flash flash--error";
    brief.textContent = saving(ctx) + message;
    if (ctx && (ctx.target || ctx.sourceElement)) showRowError(ctx, brief);
    if (ctx) markPendingFieldsUnsaved(rowOf(ctx));
    announce(message);
  }

  document.addEventListener("htmx:error", function (evt) {
    var ctx = evt.detail && evt.detail.ctx;
    if (ctx && ctx.response) return;  // an HTTP error: handled above
    showGenericProblem(ctx, problemText(ctx, "offline"));
  });

  document.addEventListener("htmx:before:swap", function (evt) {
    var ctx = evt.detail && evt.detail.ctx;
    if (!ctx) return;
    if (!isLatest(ctx)) {  // a newer click in the same row is on its way: its answer is the one to show
      evt.preventDefault();
      return;
    }
    var target = ctx.target && ctx.target.nodeType === 1 ? ctx.target : null;
    if (!target || ctx.swap === "none") return;
    var active = document.activeElement;
    ctx.portalFocus = active && active.id && target.contains(active) ? {
      id: active.id,
      start: typeof active.selectionStart === "number" ? active.selectionStart : null,
      end: typeof active.selectionEnd === "number" ? active.selectionEnd : null,
    } : null;
    carryError(ctx, target);
    // Text not saved yet (typed meanwhile, refused, or in conflict with another person's) outlives the redraw,
    // with the version it stands on and, in a conflict, the other person's text beside it. A restored draft
    // is not carried: it is offered again from storage.
    ctx.portalTyped = draftFields(target).filter(function (field) {
      return field.id && !field.hasAttribute("data-restored") &&
        (field.value !== field.defaultValue || field.hasAttribute("data-unsaved") || field.hasAttribute("data-conflict"));
    }).map(function (field) {
      var version = versionField(field);
      var theirs = field.getAttribute("aria-describedby") && document.getElementById(field.getAttribute("aria-describedby"));
      return {id: field.id, value: field.value, version: version ? version.value : null,
              refused: field.hasAttribute("data-unsaved"),
              conflict: field.hasAttribute("data-conflict") ? (theirs ? theirs.outerHTML : "") : null};
    });
  });

  function carryTyped(typed) {
    var field = document.getElementById(typed.id);
    if (!field || field.hasAttribute("data-conflict") || field.hasAttribute("data-unsaved")) return;  // the server's own word
    if (field.defaultValue === typed.value) return;  // saved as typed (a conflict resolved by saving it)
    field.value = typed.value;
    var version = versionField(field);
    // Text the server refused stands on the version it was typed on (a newer save by someone else is then a
    // conflict, not overwritten); text typed during this tab's own save follows on from the version it made.
    if (typed.refused && typed.conflict === null && version && typed.version !== null) version.value = typed.version;
    if (typed.conflict !== null) {
      field.setAttribute("data-conflict", "");
      if (version && typed.version !== null) version.value = typed.version;  // "save" still replaces theirs knowingly
      if (typed.conflict) {
        var holder = document.createElement("template");
        holder.innerHTML = typed.conflict;
        var panel = holder.content.firstElementChild;
        if (panel) {
          field.insertAdjacentElement("afterend", panel);
          field.setAttribute("aria-describedby", panel.id);
          field.parentNode.classList.add("item__note-fields--conflict");
        }
      }
    }
    saveState(field, "unsaved");
  }

  document.addEventListener("htmx:after:swap", function (evt) {
    var ctx = evt.detail && evt.detail.ctx;
    if (!ctx || ctx.swap === "none") return;
    (ctx.portalTyped || []).forEach(carryTyped);
    var focus = ctx.portalFocus;
    var active = document.activeElement;
    if (focus && (!active || active === document.body || !active.isConnected)) {
      var again = document.getElementById(focus.id);
      if (again) {
        again.focus({preventScroll: true});
        if (focus.start !== null && again.setSelectionRange) {
          try { again.setSelectionRange(focus.start, focus.end); } catch (e) { /* not a text field */ }
        }
      }
    }
    var root = swappedRoot(ctx);
    restoreCarriedError(ctx, root);
    if (root && ctx.response && ctx.response.status === 422) focusFirstError(root);
    if (root) {
      var news = root.matches && root.matches("[data-announce]") ? root : root.querySelector("[data-announce]");
      if (news) announce(news.getAttribute("data-announce"));
      else if (ctx.response && ctx.response.status < 400 && ctx.request && ctx.request.method === "POST") {
        announce(text("saved"));  // a row without its own words (a milestone, a follow-up): say it was saved
      }
      reconcileDrafts(root);
    }
  });

  // A refused form: focus goes to what to put right (the summary a page opens with does this by autofocus; a
  // swapped fragment has its first invalid field, or its first error, focused), so it is never left on <body>.
  function focusFirstError(root) {
    var first = root.querySelector(".error-summary, [aria-invalid='true'], .field__error");
    if (!first) return;
    if (!first.matches("input, select, textarea, [tabindex]")) first.setAttribute("tabindex", "-1");
    first.focus();
  }

  // A link of the error summary takes focus to the field its message stands beside (the message's
  // aria-describedby owner), not only to the message.
  document.addEventListener("click", function (evt) {
    var link = evt.target.closest && evt.target.closest("a[data-error-link]");
    if (!link) return;
    var id = (link.getAttribute("href") || "").slice(1);
    var field = id && document.querySelector("[aria-describedby~='" + id.replace(/'/g, "") + "']");
    if (!field) return;
    evt.preventDefault();
    var details = field.closest("details");
    if (details) details.open = true;
    field.focus();
    field.scrollIntoView({block: "center"});
  });

  // The element that now stands where the request's target stood (an outerHTML swap replaces it).
  function swappedRoot(ctx) {
    var target = ctx.target && ctx.target.nodeType === 1 ? ctx.target : null;
    if (!target) return null;
    if (target.isConnected) return target;
    return target.id ? document.getElementById(target.id) : null;
  }

  document.addEventListener("htmx:finally:request", function (evt) {
    var ctx = evt.detail && evt.detail.ctx;
    if (!ctx) return;
    var form = ctx.request && ctx.request.form;
    if (form && form.hasAttribute("data-create")) enableSubmits(form);
    if (isLatest(ctx)) {
      var row = ctx.portalRow ? document.getElementById(ctx.portalRow) : null;
      clearPending(row);
      var control = ctx.request && (ctx.request.submitter || ctx.sourceElement);
      if (control && control.removeAttribute) {
        control.removeAttribute("aria-busy");
        control.classList.remove("is-pending");
      }
    }
  });

  // --- one record per intent: a form being sent cannot be sent again --------------------------------
  function disableSubmits(form) {
    form.setAttribute("aria-busy", "true");
    form.querySelectorAll("button[type=submit], button:not([type]), input[type=submit]").forEach(function (b) {
      if (!b.disabled) { b.disabled = true; b.setAttribute("data-disabled-in-flight", ""); }
    });
  }

  function enableSubmits(form) {
    form.removeAttribute("aria-busy");
    form.removeAttribute("data-submitting");
    form.querySelectorAll("[data-disabled-in-flight]").forEach(function (b) {
      b.disabled = false;
      b.removeAttribute("data-disabled-in-flight");
    });
  }

  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    if (evt.defaultPrevented || !form.matches || (form.method || "").toLowerCase() !== "post") return;
    if (form.hasAttribute("data-allow-resubmit")) return;
    if (form.hasAttribute("data-submitting")) {  // a second click before the answer: the same intent
      evt.preventDefault();
      return;
    }
    form.setAttribute("data-submitting", "");
    // After the browser has read the submitter's name and value: only then may the button be disabled.
    window.setTimeout(function () { disableSubmits(form); }, 0);
    // A download (no navigation) must not leave the form dead.
    window.setTimeout(function () { enableSubmits(form); }, 15000);
  });

  window.addEventListener("pageshow", function (evt) {
    if (evt.persisted) document.querySelectorAll("form[aria-busy]").forEach(enableSubmits);
  });

  // --- small page behaviours ------------------------------------------------------------------------
  document.addEventListener("click", function (evt) {
    var reload = evt.target.closest && evt.target.closest("[data-reload]");
    if (reload) {
      evt.preventDefault();
      window.location.reload();
    }
  });

  // "Next item not yet assessed": from the row in focus (or the top), one click or the N key away.
  function goToNextUnassessed() {
    var rows = Array.prototype.slice.call(document.querySelectorAll("li[data-row][data-result=not_assessed]"));
    if (!rows.length) { announce(text("allAssessed")); return; }
    var here = document.activeElement && document.activeElement.closest && document.activeElement.closest("li[data-row]");
    var next = rows[0];
    if (here) {
      for (var i = 0; i < rows.length; i++) {
        if (here.compareDocumentPosition(rows[i]) & Node.DOCUMENT_POSITION_FOLLOWING) { next = rows[i]; break; }
      }
    }
    next.scrollIntoView({block: "center"});
    var button = next.querySelector(".item__results button[value=met]:not([disabled])") ||
      next.querySelector(".item__results button:not([disabled])");
    if (button) button.focus({preventScroll: true});
    var number = next.querySelector(".item__number");
    announce(number ? number.textContent : "");
  }

  document.addEventListener("click", function (evt) {
    if (evt.target.closest && evt.target.closest("[data-next-unassessed]")) {
      evt.preventDefault();
      goToNextUnassessed();
    }
  });

  document.addEventListener("keydown", function (evt) {
    if ((evt.key !== "n" && evt.key !== "N") || evt.ctrlKey || evt.metaKey || evt.altKey) return;
    var t = evt.target;
    if (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)) return;
    if (!document.querySelector("[data-next-unassessed]")) return;
    evt.preventDefault();
    goToNextUnassessed();
  });

  function narrowScreenMenu() {
    // The menu folds behind its button on a phone; it is open (and its button hidden) on a wide screen.
    var fold = document.querySelector(".main-nav__fold");
    if (fold && window.matchMedia && window.matchMedia("(max-width: 760px)").matches) fold.open = false;
  }

  // Items reached by a link keep clear of the sticky bar, whatever its height on this screen.
  function measureStickyBar() {
    var bar = document.querySelector(".checklist-bar");
    if (bar) document.documentElement.style.setProperty("--sticky-bar-height", bar.offsetHeight + "px");
  }

  // A file input shows the chosen file names in the page's language (templates/_forms.html file_input), also
  // for inputs swapped in later (a delegated listener) and after the browser restores a page with its files.
  function showChosen(input) {
    var shown = input.parentNode && input.parentNode.querySelector("[data-file-chosen]");
    if (!shown) return;
    var names = Array.prototype.map.call(input.files || [], function (file) { return file.name; });
    shown.textContent = names.length ? names.join(", ") : shown.getAttribute("data-none");
  }

  document.addEventListener("change", function (evt) {
    if (evt.target.matches && evt.target.matches("[data-file-input]")) showChosen(evt.target);
  });
  window.addEventListener("pageshow", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-file-input]"), showChosen);
  });

  window.addEventListener("resize", measureStickyBar);

  document.addEventListener("DOMContentLoaded", function () {
    measureStickyBar();
    if (window.location.hash && document.querySelector(".checklist-bar")) {
      var reached = document.getElementById(window.location.hash.slice(1));
      if (reached) reached.scrollIntoView();  // again, now that the bar's height is known
    }
    narrowScreenMenu();
    reconcileDrafts(document);
    reconcilePageDrafts();
  });
})();
