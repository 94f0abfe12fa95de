// The 12345 agent screen (热线受理): keyboard shortcuts, the caller's earlier orders as the
// number is typed, knowledge-base answers beside the form, picking a category by typing
// its name, path or keywords, and the organisation suggested for dispatch. All of it is
// an enhancement: without JavaScript the form posts the same fields, the history comes
// from a plain GET form and an empty main organisation takes the same suggestion on the
// server. Results are built as text nodes, never as HTML.
(function () {
  'use strict';
  var form = document.getElementById('hl-intake');
  if (!form || !window.fetch) { return; }
  function $(id) { return document.getElementById(id); }
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text) { e.textContent = text; }
    if (cls) { e.className = cls; }
    return e;
  }
  function debounce(fn, ms) {
    var t;
    return function (v) { clearTimeout(t); t = setTimeout(function () { fn(v); }, ms); };
  }
  function getJSON(url) {
    return fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } }).then(function (r) {
      if (!r.ok) { throw new Error('HTTP ' + r.status); }
      return r.json();
    });
  }
  function say(box, text, cls) {
    box.textContent = '';
    box.appendChild(el('p', text, cls || 'hint'));
  }

  var phone = $('f-caller_phone');
  var hist = $('hl-history');
  var title = $('f-title');
  var content = $('f-content');
  var answer = $('f-answer');
  var cat = $('f-category');
  var picked = $('hl-cat-path');
  var place = $('f-place_id');
  var main = $('f-main_org');
  var sug = $('hl-suggest');
  var kbPanel = $('hl-kb-panel');
  var kbq = $('hl-kb-q');
  var kb = $('hl-kb');

  // --- the caller's earlier orders -----------------------------------------------------
  var lookup = $('hl-lookup');
  if (lookup) { lookup.hidden = true; }
  var digitsOf = function (s) { return s.replace(/[^0-9-]/g, ''); };
  var lastPhone = hist.getAttribute('data-for') ? digitsOf(hist.getAttribute('data-for')) : null;
  var history = debounce(function () {
    var p = digitsOf(phone.value);
    if (p === lastPhone) { return; }
    lastPhone = p;
    if (p.replace(/-/g, '').length < 4) {
      say(hist, '输入来电号码（至少 4 位）后显示该号码以前的工单。');
      return;
    }
    getJSON(hist.getAttribute('data-url') + '?phone=' + encodeURIComponent(p)).then(function (rows) {
      if (digitsOf(phone.value) !== p) { return; }
      if (!rows.length) { say(hist, '该号码没有以前的工单。'); return; }
      hist.textContent = '';
      hist.appendChild(el('p', '该号码以前的工单 ' + rows.length + ' 件（在新窗口打开）：', 'hl-count'));
      var ul = el('ul');
      rows.forEach(function (r) {
        var li = el('li');
        var a = el('a', r.no);
        a.href = r.url;
        a.target = '_blank';
        a.rel = 'noopener';
        li.appendChild(a);
        li.appendChild(document.createTextNode(' ' + r.date + ' ' + r.kind_label));
        li.appendChild(el('br'));
        li.appendChild(document.createTextNode(r.title + '（' + r.state_label + '）'));
        ul.appendChild(li);
      });
      hist.appendChild(ul);
    }).catch(function () { say(hist, '来电历史暂时无法查询，请稍后再试。'); });
  }, 250);
  phone.addEventListener('input', history);

  // --- the knowledge base --------------------------------------------------------------
  if (kbPanel && kbq && kb) {
    var typedQuery = false;
    var lastQ = null;
    var search = debounce(function (q) {
      q = q.trim();
      if (q === lastQ) { return; }
      lastQ = q;
      if (!q) { kb.textContent = ''; return; }
      getJSON(kbq.getAttribute('data-url') + '?limit=8&q=' + encodeURIComponent(q)).then(function (rows) {
        if (q !== lastQ) { return; }
        if (!rows.length) { say(kb, '没有找到相关的知识。'); return; }
        kb.textContent = '';
        var ol = el('ol', null, 'hl-kb-list');
        rows.forEach(function (r) {
          var li = el('li');
          li.appendChild(el('h3', r.question));
          var meta = [r.category, r.source, r.valid_until ? '有效期至 ' + r.valid_until : ''].filter(Boolean).join(' · ');
          if (meta) { li.appendChild(el('p', meta, 'hint')); }
          if (r.stale) { li.appendChild(el('p', '已过有效期或待复核，请核实后再答复', 'err')); }
          li.appendChild(el('p', r.answer, 'msg-text'));
          var b = el('button', '采用答复');
          b.type = 'button';
          b.setAttribute('aria-label', '采用答复：' + r.question);
          b.addEventListener('click', function () {
            answer.value = answer.value.trim() ? answer.value.replace(/\s+$/, '') + '\n' + r.answer : r.answer;
            answer.focus();
          });
          li.appendChild(b);
          ol.appendChild(li);
        });
        kb.appendChild(ol);
      }).catch(function () { say(kb, '知识库暂时无法检索。'); });
    }, 300);
    // Without JavaScript the box opens the knowledge base in a new window; here it
    // searches in place.
    var kbForm = $('hl-kb-form');
    var kbGo = $('hl-kb-go');
    if (kbGo) { kbGo.textContent = '检索'; }
    if (kbForm) {
      kbForm.removeAttribute('target');
      kbForm.addEventListener('submit', function (e) {
        e.preventDefault();
        typedQuery = kbq.value.trim() !== '';
        lastQ = null;
        search(kbq.value);
      });
    }
    kbq.addEventListener('input', function () {
      typedQuery = kbq.value.trim() !== '';
      search(kbq.value);
    });
    // Until the agent types a query, the title (else the content) is the query.
    var fromForm = function () {
      if (!typedQuery) { search((title.value.trim() || content.value.trim()).slice(0, 100)); }
    };
    title.addEventListener('input', fromForm);
    content.addEventListener('input', fromForm);
  }

  // --- category and the suggested organisation -----------------------------------------
  var options = Array.prototype.slice.call(document.querySelectorAll('#hl-cats option'));
  var byCode = function (code) {
    for (var i = 0; i < options.length; i++) { if (options[i].value === code) { return options[i]; } }
    return null;
  };
  var mainTouched = main.value !== '';
  main.addEventListener('change', function () { mainTouched = true; });
  var orgName = function (id) {
    for (var i = 0; i < main.options.length; i++) { if (main.options[i].value === id) { return main.options[i].text; } }
    return '';
  };
  var suggest = function () {
    var o = byCode(cat.value.trim());
    var org = '';
    var why = '';
    if (o && o.getAttribute('data-org')) {
      org = o.getAttribute('data-org');
      why = '事项分类“' + o.getAttribute('data-path') + '”';
    } else if (place.value) {
      var p = place.options[place.selectedIndex];
      if (p && p.getAttribute('data-org')) { org = p.getAttribute('data-org'); why = '所选街道社区'; }
    }
    if (!org) {
      sug.textContent = '没有建议的承办单位，请选择主办单位。';
      return;
    }
    sug.textContent = '建议：' + orgName(org) + '（依据' + why + '）';
    if (!mainTouched) { main.value = org; }
  };
  var resolve = function () {
    var v = cat.value.trim();
    var o = byCode(v);
    if (!o && v) {
      // A unique match on the path, the name or a keyword takes the category.
      var hits = options.filter(function (x) { return x.getAttribute('data-path') === v; });
      if (!hits.length) { hits = options.filter(function (x) { return (x.label || '').indexOf(v) >= 0; }); }
      if (hits.length === 1) { o = hits[0]; cat.value = o.value; }
    }
    picked.textContent = o ? '。已选：' + o.getAttribute('data-path') : (v ? '。没有找到唯一匹配的分类，请从列表中选择' : '');
    suggest();
  };
  cat.addEventListener('change', resolve);
  cat.addEventListener('blur', resolve);
  place.addEventListener('change', suggest);
  if (cat.value.trim() || place.value) { resolve(); }

  // --- the keyboard --------------------------------------------------------------------
  // Shown again with errors: the first field to fix has the focus, not the phone.
  var invalid = form.querySelector('[aria-invalid="true"]');
  if (invalid) { invalid.focus(); }
  var submitted = false;
  form.addEventListener('submit', function (e) {
    // One submission per click; a retry after a failure reloads the page with the same key.
    if (submitted) { e.preventDefault(); }
    submitted = true;
  });
  var keys = { KeyP: phone, KeyT: title, KeyC: cat, KeyK: kbq, KeyA: answer, KeyD: main };
  document.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      var btn = answer.value.trim() ? $('hl-answer') : $('hl-dispatch');
      if (form.requestSubmit) { form.requestSubmit(btn); } else { btn.click(); }
      return;
    }
    if (e.altKey && !e.ctrlKey && !e.metaKey && keys[e.code]) {
      e.preventDefault();
      keys[e.code].focus();
      return;
    }
    // Enter in a one-line field moves on instead of submitting half a form.
    var t = e.target;
    if (e.key === 'Enter' && t.form === form && t.tagName === 'INPUT' && !/^(submit|button|file|checkbox|radio)$/.test(t.type)) {
      e.preventDefault();
    }
  });
}());
