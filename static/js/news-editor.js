/* The news editor's rich-text field: pell 1.0.6 (static/vendor) over the post's text area.
 *
 * Progressive enhancement: without JavaScript the Markdown text area is the editor. With it, the text area is
 * hidden and a contenteditable editor shows the post's current text as HTML (the server's own rendering, in the
 * <template id="body-rich-html">). What is typed or pasted (from Word or WPS too) is sent as `body_html`; the
 * server cleans it to the allowed tags and keeps it as Markdown. Pictures, chosen with the toolbar's button or
 * pasted, are uploaded to the portal first (POST /news/images) and put into the text by their address.
 * No inline script or style: the page's strict CSP allows this file and pell's only.
 */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function upload(url, blob, name) {
    var data = new FormData();
    data.append("image", blob, name || "image.png");
    return fetch(url, {method: "POST", body: data, credentials: "same-origin",
                       headers: {"X-CSRFToken": csrfToken(), "Accept": "application/json"}})
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          if (!response.ok || !body.url) {
            var failure = new Error(body.error || String(response.status));
            failure.reason = body.error || "";  /* the server's words: too large, not a picture… */
            throw failure;
          }
          return body.url;
        });
      });
  }

  function dataUrlToBlob(src) {
    var parts = src.split(",");
    var type = (parts[0].match(/data:([^;]+)/) || [])[1] || "image/png";
    var bytes = atob(parts[1] || "");
    var buffer = new Uint8Array(bytes.length);
    for (var i = 0; i < bytes.length; i += 1) { buffer[i] = bytes.charCodeAt(i); }
    return new Blob([buffer], {type: type});
  }

  function start() {
    var textarea = document.getElementById("body_md");
    var source = document.getElementById("body-rich-html");
    var texts = document.getElementById("rich-editor-texts");
    if (!textarea || !source || !texts || !window.pell) { return; }
    var t = texts.dataset;
    var form = textarea.form;
    var field = document.getElementById("body_html");  /* the page's own field: portal.js keeps its drafts */
    if (!field) {
      field = document.createElement("textarea");
      field.id = field.name = "body_html";
      field.hidden = true;
      form.appendChild(field);
    }
    var restored = field.hasAttribute("data-restored") && field.value;  /* a draft offered again by portal.js */
    var status = document.createElement("p");
    status.className = "rich-editor__status";
    status.setAttribute("role", "status");
    var holder = document.createElement("div");
    holder.className = "rich-editor";
    textarea.parentNode.insertBefore(holder, textarea);
    holder.parentNode.insertBefore(status, textarea);
    var picker = document.createElement("input");
    picker.type = "file";
    picker.accept = "image/jpeg,image/png,image/gif,image/webp";
    picker.hidden = true;
    holder.parentNode.insertBefore(picker, textarea);

    function sync() {
      field.value = editor.content.innerHTML;
      field.dispatchEvent(new Event("input", {bubbles: true}));  /* kept as a draft; the unsaved-text warning follows */
    }

    function insertUploaded(blob, name, image) {
      status.textContent = t.uploading;
      return upload(t.uploadUrl, blob, name).then(function (url) {
        if (image) { image.src = url; } else { editor.content.focus(); window.pell.exec("insertImage", url); }
        status.textContent = "";
        sync();
      }, function (failure) {
        if (image) { image.remove(); }
        status.textContent = failure && failure.reason ? t.uploadFailed + " " + failure.reason : t.uploadFailed;
        sync();
      });
    }

    var editor = window.pell.init({
      element: holder,
      defaultParagraphSeparator: "p",
      onChange: sync,
      actions: [
        {name: "bold", title: t.bold}, {name: "italic", title: t.italic},
        {name: "heading2", title: t.heading}, {name: "paragraph", title: t.paragraph},
        {name: "quote", title: t.quote}, {name: "olist", title: t.olist}, {name: "ulist", title: t.ulist},
        {name: "link", title: t.link, icon: t.link, result: function () {
          var url = window.prompt(t.linkPrompt, "https://");
          if (url) { window.pell.exec("createLink", url); }
        }},
        {name: "image", title: t.image, icon: t.imageShort, result: function () { picker.click(); }}
      ]
    });
    editor.content.innerHTML = restored || source.innerHTML;
    editor.content.setAttribute("role", "textbox");
    editor.content.setAttribute("aria-multiline", "true");
    editor.content.setAttribute("aria-label", t.label);
    /* The name says what the button does and keeps its visible letters (B, I, H2), as speech input needs. */
    Array.prototype.forEach.call(holder.querySelectorAll("button"), function (button) {
      var shown = (button.textContent || "").trim();
      button.setAttribute("aria-label", /^[A-Za-z0-9]+$/.test(shown) && shown !== button.title
        ? button.title + " " + shown : button.title);
    });
    textarea.hidden = true;
    textarea.required = false;
    var label = document.querySelector('label[for="body_md"]');
    if (label) {  /* the Markdown hint no longer applies: the label says what the field is */
      label.textContent = t.label;
      label.addEventListener("click", function () { editor.content.focus(); });
    }
    if (!restored) { field.defaultValue = field.value = editor.content.innerHTML; }  /* as loaded: not unsaved */

    picker.addEventListener("change", function () {
      if (picker.files && picker.files[0]) { insertUploaded(picker.files[0], picker.files[0].name, null); }
      picker.value = "";
    });
    /* After a paste: pictures that came in as data (a screenshot, WPS) are uploaded; ones pointing at the
       pasting PC's disk (file:, Word's temporary files) cannot be reached and are dropped. */
    editor.content.addEventListener("paste", function () {
      window.setTimeout(function () {
        Array.prototype.forEach.call(editor.content.querySelectorAll("img"), function (image) {
          var src = image.getAttribute("src") || "";
          if (src.indexOf("data:image/") === 0) { insertUploaded(dataUrlToBlob(src), "pasted.png", image); }
          else if (!/^(https?:|\/)/.test(src)) { image.remove(); }
        });
        sync();
      }, 0);
    });
  }

  /* After portal.js has offered the drafts of the page's fields (its own DOMContentLoaded handler), so that a
     draft of the editor's text, restored into #body_html, is what the editor starts with. */
  function startAfterDrafts() { window.setTimeout(start, 0); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", startAfterDrafts); }
  else { startAfterDrafts(); }
}());
