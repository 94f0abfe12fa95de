// 开放数据接口调试页面：读取 /api/openapi.json，为每个 GET 操作生成参数表单，
// 发送请求并显示格式化的 JSON。只用同源资源，不用内联脚本或样式（页面的 CSP 禁止）。
(function () {
  "use strict";

  var SPEC_URL = "/api/openapi.json";
  var WHERE = { path: "路径参数", query: "查询参数" };

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) return;
        if (k === "text") e.textContent = v;
        else if (k === "className") e.className = v;
        else e.setAttribute(k, v === true ? "" : String(v));
      });
    }
    (children || []).forEach(function (c) {
      if (c !== null && c !== undefined) e.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return e;
  }

  // "#/components/parameters/Limit" → the object it names.
  function resolve(spec, obj) {
    var seen = 0;
    while (obj && obj.$ref && seen < 10) {
      var parts = obj.$ref.replace(/^#\//, "").split("/");
      obj = parts.reduce(function (o, p) { return o ? o[p] : undefined; }, spec);
      seen += 1;
    }
    return obj || {};
  }

  function slug(s) {
    return String(s).replace(/[^A-Za-z0-9_-]/g, "-");
  }

  function jsonOperation(spec, op) {
    var ok = resolve(spec, (op.responses || {})["200"]);
    return !!(ok.content && ok.content["application/json"]);
  }

  // The pattern attribute is anchored and compiled with the "v" flag, where a literal
  // "-" inside a character class must be escaped.
  function htmlPattern(re) {
    return re.replace(/^\^|\$$/g, "").replace(/-\]/g, "\\-]");
  }

  function inputFor(spec, opId, p) {
    var schema = resolve(spec, p.schema);
    var id = "f-" + slug(opId) + "-" + slug(p.name);
    var hintId = id + "-hint";
    var input;
    if (schema.enum) {
      input = el("select", { id: id, name: p.name, "aria-describedby": hintId, required: p.required });
      if (!p.required) input.appendChild(el("option", { value: "", text: "（不限）" }));
      schema.enum.forEach(function (v) { input.appendChild(el("option", { value: v, text: v })); });
    } else if (schema.type === "integer") {
      input = el("input", {
        id: id, name: p.name, type: "number", step: 1, inputmode: "numeric",
        min: schema.minimum, max: schema.maximum !== undefined && schema.maximum < 1e15 ? schema.maximum : null,
        placeholder: schema.default !== undefined ? "默认 " + schema.default : null,
        "aria-describedby": hintId, required: p.required
      });
    } else if (schema.format === "date") {
      input = el("input", { id: id, name: p.name, type: "date", "aria-describedby": hintId, required: p.required });
    } else {
      input = el("input", {
        id: id, name: p.name, type: "text", pattern: schema.pattern ? htmlPattern(schema.pattern) : null,
        maxlength: schema.maxLength, autocomplete: "off", spellcheck: "false",
        "aria-describedby": hintId, required: p.required
      });
    }
    var lab = el("label", { "for": id }, [
      el("code", { text: p.name }),
      " " + (WHERE[p.in] || p.in) + (p.required ? "（必填）" : "")
    ]);
    return el("div", { className: "field" }, [lab, input, el("p", { className: "hint", id: hintId, text: p.description || "" })]);
  }

  function buildUrl(path, params, form) {
    var url = path;
    var query = [];
    params.forEach(function (p) {
      var f = form.elements.namedItem(p.name);
      var v = f ? String(f.value).trim() : "";
      if (p.in === "path") url = url.replace("{" + p.name + "}", encodeURIComponent(v));
      else if (p.in === "query" && v !== "") query.push(encodeURIComponent(p.name) + "=" + encodeURIComponent(v));
    });
    return query.length ? url + "?" + query.join("&") : url;
  }

  function describe(status, data) {
    var parts = ["状态 " + status];
    if (data && Array.isArray(data.items)) parts.push("本页 " + data.items.length + " 条信息");
    if (data && Array.isArray(data.entries)) parts.push("本页 " + data.entries.length + " 个事项");
    if (data && Array.isArray(data.sites)) parts.push("共 " + data.sites.length + " 个网站");
    if (data && Array.isArray(data.columns)) parts.push("共 " + data.columns.length + " 个栏目");
    if (data && data.error) parts.push("错误：" + data.error.message);
    if (data && data.next_cursor) parts.push("还有下一页");
    return parts.join("，");
  }

  function operation(spec, path, op) {
    var opId = op.operationId || path;
    var secId = "op-" + slug(opId);
    var headId = secId + "-title";
    var section = el("section", { className: "op", id: secId, "aria-labelledby": headId }, [
      el("h2", { id: headId }, [el("span", { className: "method", text: "GET" }), " ", el("code", { text: path }), " ", op.summary || ""]),
      op.description ? el("p", { className: "desc", text: op.description }) : null
    ]);
    if (!jsonOperation(spec, op)) {
      section.appendChild(el("p", {}, [el("a", { href: path, text: "打开 " + path })]));
      return section;
    }
    var params = (op.parameters || []).map(function (p) { return resolve(spec, p); });
    var form = el("form", { className: "params", novalidate: false });
    if (params.length) {
      var fs = el("fieldset", {}, [el("legend", { text: "参数" })]);
      params.forEach(function (p) { fs.appendChild(inputFor(spec, opId, p)); });
      form.appendChild(fs);
    } else {
      form.appendChild(el("p", { className: "hint", text: "此接口没有参数。" }));
    }
    var send = el("button", { type: "submit", text: "发送请求" });
    var next = el("button", { type: "button", className: "next", hidden: true, text: "下一页" });
    form.appendChild(el("div", { className: "actions" }, [send, next]));
    section.appendChild(form);

    var summary = el("p", { className: "summary", role: "status", "aria-live": "polite" });
    var reqLine = el("p", { className: "request", hidden: true });
    // A focusable, named region: keyboard users can scroll a long response.
    var pre = el("pre", { className: "response", tabindex: 0, hidden: true, role: "region", "aria-label": "响应内容" });
    section.appendChild(el("div", { className: "result" }, [summary, reqLine, pre]));

    var nextCursor = null;
    function run() {
      if (!form.reportValidity()) return;
      var url = buildUrl(path, params, form);
      send.disabled = true;
      summary.textContent = "正在请求……";
      reqLine.hidden = false;
      reqLine.textContent = "";
      reqLine.appendChild(document.createTextNode("请求："));
      reqLine.appendChild(el("a", { href: url }, [el("code", { text: "GET " + url })]));
      fetch(url, { headers: { Accept: "application/json" } })
        .then(function (r) {
          return r.text().then(function (t) {
            var data = null;
            try { data = JSON.parse(t); } catch (e) { data = null; }
            pre.textContent = data !== null ? JSON.stringify(data, null, 2) : t;
            pre.hidden = false;
            summary.textContent = describe(r.status, data);
            nextCursor = data && typeof data.next_cursor === "string" ? data.next_cursor : null;
            next.hidden = !(nextCursor && form.elements.namedItem("cursor"));
          });
        })
        .catch(function () {
          summary.textContent = "请求失败：无法连接服务器，请稍后重试。";
          pre.hidden = true;
          next.hidden = true;
        })
        .then(function () { send.disabled = false; });
    }
    form.addEventListener("submit", function (ev) { ev.preventDefault(); run(); });
    next.addEventListener("click", function () {
      var c = form.elements.namedItem("cursor");
      if (c && nextCursor) {
        c.value = nextCursor;
        run();
      }
    });
    return section;
  }

  function start() {
    var loading = document.getElementById("loading");
    var box = document.getElementById("operations");
    var toc = document.getElementById("toc");
    fetch(SPEC_URL, { headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) throw new Error("status " + r.status);
        return r.json();
      })
      .then(function (spec) {
        var n = 0;
        Object.keys(spec.paths || {}).forEach(function (path) {
          var op = spec.paths[path].get;
          if (!op) return;
          var sec = operation(spec, path, op);
          box.appendChild(sec);
          toc.appendChild(el("li", {}, [el("a", { href: "#" + sec.id }, [el("code", { text: path }), " " + (op.summary || "")])]));
          n += 1;
        });
        var info = spec.info || {};
        document.title = (info.title || "开放数据接口") + " · 调试";
        loading.textContent = "已加载 " + n + " 个接口（版本 " + (info.version || "") + "）。";
      })
      .catch(function () {
        loading.textContent = "接口说明加载失败，请刷新页面重试。";
      });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
