// gongkai rich-text editor: progressive enhancement of <textarea data-editor="rich">.
// Without JavaScript the textarea holds the HTML and still works; the server sanitises
// everything it receives, so this script only has to be pleasant, not trusted.
(function () {
  "use strict";
  var ALLOWED = { P: 1, BR: 1, H2: 1, H3: 1, H4: 1, STRONG: 1, B: 1, EM: 1, I: 1, U: 1, UL: 1, OL: 1, LI: 1, TABLE: 1, THEAD: 1, TBODY: 1, TR: 1, TH: 1, TD: 1, A: 1, IMG: 1, BLOCKQUOTE: 1, SUB: 1, SUP: 1 };
  var KEEP_ATTR = { href: 1, alt: 1, src: 1, colspan: 1, rowspan: 1 };

  // Pasted HTML (often from Word) is reduced to the allow-list before it enters the page,
  // so no pasted handler or style ever runs here.
  function clean(node) {
    var out = document.createDocumentFragment();
    node.childNodes.forEach(function (n) {
      if (n.nodeType === 3) { out.appendChild(document.createTextNode(n.nodeValue)); return; }
      if (n.nodeType !== 1) { return; }
      var tag = n.tagName.toUpperCase();
      if (tag === "SCRIPT" || tag === "STYLE" || tag === "META" || tag === "LINK" || tag.indexOf(":") >= 0) { return; }
      var kids = clean(n);
      if (!ALLOWED[tag]) { out.appendChild(kids); return; }
      var el = document.createElement(tag === "H1" ? "h2" : tag.toLowerCase());
      Array.prototype.forEach.call(n.attributes, function (a) {
        var v = a.value.trim();
        if (KEEP_ATTR[a.name] && !/^\s*(javascript|data|vbscript):/i.test(v)) { el.setAttribute(a.name, v); }
      });
      el.appendChild(kids);
      out.appendChild(el);
    });
    return out;
  }

  function button(label, title, fn) {
    var b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.title = title;
    b.setAttribute("aria-label", title);
    b.addEventListener("click", function (e) { e.preventDefault(); fn(); });
    return b;
  }

  function enhance(ta) {
    var wrap = document.createElement("div");
    wrap.className = "rte";
    var bar = document.createElement("div");
    bar.className = "rte-bar";
    bar.setAttribute("role", "toolbar");
    bar.setAttribute("aria-label", "正文格式");
    var area = document.createElement("div");
    area.className = "rte-area";
    area.contentEditable = "true";
    area.setAttribute("role", "textbox");
    area.setAttribute("aria-multiline", "true");
    area.setAttribute("aria-label", "正文");
    var parsed = new DOMParser().parseFromString(ta.value, "text/html");
    area.appendChild(clean(parsed.body));
    function cmd(c, v) { return function () { document.execCommand(c, false, v); area.focus(); }; }
    bar.appendChild(button("标题", "二级标题", cmd("formatBlock", "h2")));
    bar.appendChild(button("小标题", "三级标题", cmd("formatBlock", "h3")));
    bar.appendChild(button("段落", "正文段落", cmd("formatBlock", "p")));
    bar.appendChild(button("粗", "加粗", cmd("bold")));
    bar.appendChild(button("斜", "倾斜", cmd("italic")));
    bar.appendChild(button("1.", "编号列表", cmd("insertOrderedList")));
    bar.appendChild(button("•", "项目列表", cmd("insertUnorderedList")));
    bar.appendChild(button("链接", "插入链接", function () {
      var url = window.prompt("链接地址（http:// 或 https:// 开头）", "https://");
      if (url && /^(https?:\/\/|\/)/.test(url)) { document.execCommand("createLink", false, url); }
      area.focus();
    }));
    bar.appendChild(button("表格", "插入 3×3 表格", function () {
      var rows = "";
      for (var r = 0; r < 3; r++) { rows += "<tr>" + "<td>&nbsp;</td>".repeat(3) + "</tr>"; }
      document.execCommand("insertHTML", false, "<table><tbody>" + rows + "</tbody></table><p></p>");
      area.focus();
    }));
    bar.appendChild(button("清除", "清除格式", cmd("removeFormat")));
    area.addEventListener("paste", function (e) {
      var html = e.clipboardData && e.clipboardData.getData("text/html");
      if (!html) { return; }
      e.preventDefault();
      var frag = clean(new DOMParser().parseFromString(html, "text/html").body);
      var box = document.createElement("div");
      box.appendChild(frag);
      document.execCommand("insertHTML", false, box.innerHTML);
    });
    ta.hidden = true;
    ta.parentNode.insertBefore(wrap, ta);
    wrap.appendChild(bar);
    wrap.appendChild(area);
    var label = document.querySelector('label[for="' + ta.id + '"]');
    if (label) { label.addEventListener("click", function () { area.focus(); }); }
    ta.form.addEventListener("submit", function () { ta.value = area.innerHTML; });
  }

  document.querySelectorAll('textarea[data-editor="rich"]').forEach(enhance);
})();
