// The lesson editor: line numbers beside the text, and each problem's "Line N" link puts the
// cursor on that line. The page works without it (the numbered copy below the form).
(function () {
  "use strict";
  var area = document.getElementById("document");
  if (!area) {
    return;
  }
  var wrap = document.createElement("div");
  wrap.className = "numbered-editor";
  var gutter = document.createElement("div");
  gutter.className = "gutter";
  gutter.setAttribute("aria-hidden", "true");
  area.parentNode.insertBefore(wrap, area);
  wrap.appendChild(gutter);
  wrap.appendChild(area);

  var shown = 0;
  function number() {
    var count = area.value.split("\n").length;
    if (count !== shown) {
      var lines = [];
      for (var line = 1; line <= count; line += 1) {
        lines.push(line);
      }
      gutter.textContent = lines.join("\n");
      shown = count;
    }
    gutter.scrollTop = area.scrollTop;
  }
  area.addEventListener("input", number);
  area.addEventListener("scroll", function () {
    gutter.scrollTop = area.scrollTop;
  });
  number();

  function goTo(line) {
    var lines = area.value.split("\n");
    var index = Math.min(Math.max(line, 1), lines.length) - 1;
    var start = 0;
    for (var before = 0; before < index; before += 1) {
      start += lines[before].length + 1;
    }
    area.focus();
    area.setSelectionRange(start, start + lines[index].length);
    var height = parseFloat(window.getComputedStyle(area).lineHeight) || 20;
    area.scrollTop = Math.max(0, (index - 3) * height);
  }
  var links = document.querySelectorAll("a[data-line]");
  for (var found = 0; found < links.length; found += 1) {
    links[found].addEventListener("click", function (event) {
      event.preventDefault();
      goTo(Number(event.currentTarget.getAttribute("data-line")));
    });
  }
})();
