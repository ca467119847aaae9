// The branch picker's search field as a combobox (templates/_branch_picker.html; WAI-ARIA combobox pattern).
// htmx fetches the suggestions as the person types; this script lets them be chosen without a mouse:
// Down/Up move through them (aria-activedescendant), Enter or a click chooses, Escape closes the list.
// One branch: the choice fills the hidden id and the field. Several: the choice becomes a chip (a ticked
// checkbox under the form's field name) with a remove button, and the field empties for the next one.
// Without this script the form still works: the server resolves the typed name (services/branch_choice.py).
(function () {
  "use strict";

  function pickerOf(node) { return node && node.closest ? node.closest("[data-branch-picker]") : null; }
  function inputOf(picker) { return picker.querySelector("[data-picker-input]"); }
  function listOf(input) { return document.getElementById(input.getAttribute("aria-controls")); }
  function options(list) { return list ? Array.prototype.slice.call(list.querySelectorAll("[role=option]")) : []; }

  function status(input, message) {
    var region = document.getElementById(input.id + "-status");
    if (region) region.textContent = message || "";
  }

  function setActive(input, option) {
    var list = listOf(input);
    options(list).forEach(function (o) {
      o.setAttribute("aria-selected", o === option ? "true" : "false");
      o.classList.toggle("is-active", o === option);
    });
    if (option) {
      input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({block: "nearest"});
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function open(input) {
    var list = listOf(input);
    var any = options(list).length > 0;
    if (list) list.hidden = !any;
    input.setAttribute("aria-expanded", any ? "true" : "false");
  }

  function close(input) {
    var list = listOf(input);
    if (list) list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    setActive(input, null);
  }

  function chip(picker, id, name) {
    var holder = picker.querySelector("[data-chips]");
    var item = document.createElement("li");
    item.className = "chip";
    var label = document.createElement("label");
    var box = document.createElement("input");
    box.type = "checkbox";
    box.name = holder.getAttribute("data-chips");
    box.value = id;
    box.checked = true;
    label.appendChild(box);
    label.appendChild(document.createTextNode(" " + name));
    var remove = document.createElement("button");
    remove.type = "button";
    remove.className = "chip__remove";
    remove.setAttribute("data-chip-remove", "");
    remove.setAttribute("aria-label", picker.getAttribute("data-remove-text") + " " + name);
    remove.textContent = "×";
    item.appendChild(label);
    item.appendChild(remove);
    enhanceChip(item);
    holder.appendChild(item);
  }

  // With the script a chip is removed with its button; its checkbox stays in the form (still sent), unseen.
  function enhanceChip(item) {
    var box = item.querySelector("input[type=checkbox]");
    var remove = item.querySelector("[data-chip-remove]");
    if (!box || !remove) return;
    box.hidden = true;
    remove.hidden = false;
  }

  function choose(input, option) {
    var picker = pickerOf(input);
    var id = option.getAttribute("data-id");
    var name = option.getAttribute("data-name");
    if (picker.hasAttribute("data-multiple")) {
      var taken = picker.querySelector("[data-chips] input[value='" + id + "']");
      if (!taken) chip(picker, id, name);
      input.value = "";
      status(input, picker.getAttribute("data-added-text") + " " + name);
    } else {
      var hidden = picker.querySelector("[data-picker-value]");
      if (hidden) hidden.value = id;
      input.value = name;
      status(input, name);
    }
    close(input);
    input.focus();
  }

  document.addEventListener("keydown", function (evt) {
    var input = evt.target;
    if (!input.matches || !input.matches("[data-picker-input]")) return;
    var list = listOf(input);
    var all = options(list);
    var active = input.getAttribute("aria-activedescendant");
    var current = active ? document.getElementById(active) : null;
    var at = current ? all.indexOf(current) : -1;
    if (evt.key === "ArrowDown" || evt.key === "ArrowUp") {
      if (!all.length) return;
      evt.preventDefault();
      open(input);
      var next = evt.key === "ArrowDown" ? (at + 1) % all.length : (at <= 0 ? all.length - 1 : at - 1);
      setActive(input, all[next]);
    } else if (evt.key === "Enter") {
      if (current && list && !list.hidden) {
        evt.preventDefault();  // a choice, not the form's submission
        choose(input, current);
      }
    } else if (evt.key === "Escape") {
      if (list && !list.hidden) {
        evt.preventDefault();
        close(input);
      }
    }
  });

  document.addEventListener("input", function (evt) {
    var input = evt.target;
    if (!input.matches || !input.matches("[data-picker-input]")) return;
    // Typing again undoes a choice: the server resolves the new text (never the earlier id with other text).
    var hidden = pickerOf(input).querySelector("[data-picker-value]");
    if (hidden) hidden.value = "";
    if (!input.value.trim()) close(input);
  });

  // mousedown, not click: the field keeps its focus (a click would blur it first and close the list).
  document.addEventListener("mousedown", function (evt) {
    var option = evt.target.closest && evt.target.closest("[data-branch-picker] [role=option]");
    if (!option) return;
    evt.preventDefault();
    var input = inputOf(pickerOf(option));
    if (input) choose(input, option);
  });

  document.addEventListener("click", function (evt) {
    var remove = evt.target.closest && evt.target.closest("[data-chip-remove]");
    if (!remove) return;
    var picker = pickerOf(remove);
    var item = remove.closest(".chip");
    var name = item.textContent.replace("×", "").trim();
    item.remove();
    var input = inputOf(picker);
    if (input) {
      input.focus();
      status(input, picker.getAttribute("data-removed-text") + " " + name);
    }
  });

  document.addEventListener("focusout", function (evt) {
    var input = evt.target;
    if (input.matches && input.matches("[data-picker-input]")) {
      window.setTimeout(function () { if (document.activeElement !== input) close(input); }, 150);
    }
  });

  // New suggestions: shown (or hidden when there are none), nothing active yet, the count announced.
  document.addEventListener("htmx:after:swap", function (evt) {
    var ctx = evt.detail && evt.detail.ctx;
    var target = ctx && ctx.target;
    var picker = target && target.nodeType === 1 ? pickerOf(target) : null;
    if (!picker) return;
    var input = inputOf(picker);
    if (!input) return;
    setActive(input, null);
    if (input.value.trim() && document.activeElement === input) open(input); else close(input);
    var list = listOf(input);
    status(input, list ? list.getAttribute("data-status") : "");
  });

  function enhance() {
    document.querySelectorAll("[data-branch-picker] .chip").forEach(enhanceChip);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", enhance);
  else enhance();
})();
