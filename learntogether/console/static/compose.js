// The broadcast form's preview follows the writing: when the writer pauses, the form asks the
// server for the preview its Preview button shows (each language as Telegram would show it,
// or that Telegram would refuse it, and who would read it in another language than theirs) and
// puts each language's bubble beside its box. Nothing is sent from here; without this script
// the Preview button does the same.
(function () {
  "use strict";
  var form = document.querySelector("form[data-live-preview]");
  if (!form || !window.fetch || !window.FormData || !window.DOMParser) {
    return;
  }
  var timer = null;
  var asked = 0;

  function show(page) {
    var boxes = form.querySelectorAll(".compose-language");
    for (var index = 0; index < boxes.length; index += 1) {
      var box = boxes[index];
      var area = box.querySelector("textarea");
      var theirs = area ? page.getElementById(area.id) : null;
      var twin = theirs ? theirs.closest(".compose-language") : null;
      var fresh = twin ? twin.querySelector(".chat") : null;
      var old = box.querySelector(".chat");
      if (old) {
        old.parentNode.removeChild(old);
      }
      if (fresh) {
        box.appendChild(document.importNode(fresh, true));
        box.classList.add("with-preview");
      } else {
        box.classList.remove("with-preview");
      }
    }
    // Who would read it in another language than theirs.
    var others = document.getElementById("other-languages");
    var theirOthers = page.getElementById("other-languages");
    if (others && theirOthers) {
      others.parentNode.replaceChild(document.importNode(theirOthers, true), others);
    }
  }

  function update() {
    var data = new FormData(form);
    data.set("action", "preview");
    asked += 1;
    var mine = asked;
    window
      .fetch(form.getAttribute("action"), {
        method: "POST",
        body: data,
        credentials: "same-origin",
      })
      .then(function (answer) {
        return answer.text();
      })
      .then(function (html) {
        // Only the latest answer counts: an earlier one may arrive after it.
        if (mine === asked) {
          show(new DOMParser().parseFromString(html, "text/html"));
        }
      })
      .catch(function () {
        // Offline for a moment: the Preview button still works.
      });
  }

  form.addEventListener("input", function (event) {
    // The text, and who gets it (which decides who would read another language).
    if (event.target.tagName !== "TEXTAREA" && event.target.type !== "checkbox") {
      return;
    }
    window.clearTimeout(timer);
    timer = window.setTimeout(update, 400);
  });
})();
