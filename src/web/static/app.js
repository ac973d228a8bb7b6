/* jifen pages: a few helpers, no framework, no build step.
   Forms marked data-api="METHOD /api/v1/..." are sent to the JSON API with the session
   cookie and the CSRF token; a refusal is shown in words inside the form. */
(function () {
  "use strict";
  var meta = document.querySelector("meta[name=csrf]");
  var csrf = meta ? meta.content : "";

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(16) + "-" + Math.random().toString(16).slice(2);
  }

  /* The sentence to show for a problem+json answer. */
  function words(status, data) {
    if (data && data.errors && data.errors.length) return data.errors[0].message;
    if (data && data.detail) return data.detail;
    if (status === 0) return "网络不通，请检查网络后再试。";
    return "没有成功（" + status + "），请稍后再试。";
  }

  function api(method, path, body, key) {
    var headers = { "X-CSRF-Token": csrf, "Accept": "application/json" };
    var init = { method: method, headers: headers, credentials: "same-origin", cache: "no-store" };
    if (body instanceof FormData) {
      init.body = body;
    } else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    if (key) headers["Idempotency-Key"] = key;
    return fetch(path, init).then(function (r) {
      var type = r.headers.get("Content-Type") || "";
      var read = type.indexOf("json") >= 0 ? r.json() : Promise.resolve(null);
      return read.then(function (data) {
        return { ok: r.ok, status: r.status, data: data, message: r.ok ? "" : words(r.status, data) };
      });
    }, function () {
      return { ok: false, status: 0, data: null, message: words(0, null) };
    });
  }

  /* A field's value as the API wants it: data-type="int" | "negint" (typed as a count,
     sent as its negative: stock going out) | "ints" | "strs" | "list" | "json" | "bool". */
  /* `policy.notice_days` puts the value at body.policy.notice_days. */
  function place(body, name) {
    var path = name.split("."), last = path.pop();
    path.forEach(function (part) { body = body[part] = body[part] || {}; });
    return { into: body, key: last };
  }

  function collect(form) {
    var body = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "csrf" || el.disabled) return;
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked && el.dataset.type !== "bool") return;
      var type = el.dataset.type || "text";
      var value = el.value.trim();
      var at = place(body, el.name), into = at.into, key = at.key;
      if (type === "bool") { into[key] = el.checked; return; }
      if (type === "ints") { (into[key] = into[key] || []).push(parseInt(value, 10)); return; }
      if (type === "strs") { (into[key] = into[key] || []).push(value); return; }
      if (value === "" && el.dataset.optional !== undefined) return;
      if (type === "int") value = parseInt(value, 10);
      if (type === "negint") value = -Math.abs(parseInt(value, 10));
      if (type === "json") value = JSON.parse(value);
      if (type === "list") value = value.split(/[、,，\s]+/).filter(Boolean);
      into[key] = value;
    });
    return listed(body);
  }

  /* `roles.0`, `roles.1` put values into body.roles as a list, in that order. */
  function listed(value) {
    if (!value || typeof value !== "object" || Array.isArray(value)) return value;
    var keys = Object.keys(value);
    keys.forEach(function (k) { value[k] = listed(value[k]); });
    if (keys.length && keys.every(function (k) { return /^\d+$/.test(k); })) {
      return keys.sort(function (a, b) { return a - b; }).map(function (k) { return value[k]; });
    }
    return value;
  }

  function say(form, text, good) {
    var box = form.querySelector(".message");
    if (!box) {
      box = document.createElement("p");
      box.className = "message";
      box.setAttribute("role", "alert");
      form.appendChild(box);
    }
    box.className = "message " + (good ? "ok" : "error");
    box.textContent = text;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var spec = form.dataset.api;
    if (!spec) return;
    event.preventDefault();
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
    var parts = spec.split(" ");
    var body = form.enctype === "multipart/form-data" ? new FormData(form) : collect(form);
    if (body instanceof FormData) body.delete("csrf");
    /* One key per form as shown: pressing twice cannot do it twice. */
    form.dataset.key = form.dataset.key || newKey();
    var button = form.querySelector("[type=submit]");
    if (button) button.disabled = true;
    api(parts[0], parts[1], body, form.dataset.key).then(function (answer) {
      if (button) button.disabled = false;
      if (!answer.ok) {
        /* A refusal (4xx) changed nothing: the next try is a new request. Without an answer
           (network, 5xx) it may have happened: a retry reuses the key and cannot do it twice. */
        if (answer.status >= 400 && answer.status < 500) delete form.dataset.key;
        say(form, answer.message, false);
        return;
      }
      /* "{created}" in data-then is the answer's `created`, "/admin/x/{id}" its `id`. */
      var then = (form.dataset.then || "reload").replace(/\{(\w+)\}/g, function (_, k) {
        return answer.data && answer.data[k] !== undefined ? answer.data[k] : "";
      });
      if (then === "reload") { location.reload(); return; }
      if (then.charAt(0) === "/") { location.assign(then); return; }
      /* Done: clear the form so that the same thing is not sent twice by mistake. */
      form.reset();
      say(form, then, true);
      delete form.dataset.key;
    });
  });

  /* Buttons and pickers that need a line of script say so in data attributes: pages carry
     no inline script (their Content-Security-Policy allows only these files). */
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-action]");
    if (!button) return;
    if (button.dataset.action === "print") window.print();
    if (button.dataset.action === "back") history.back();
    if (button.dataset.action === "bright") bright(button);
  });
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("select[data-autosubmit]")) event.target.form.submit();
  });

  /* The payment code page: watch for the shop's redemption; renew before the code runs
     out, except while a shop's scan holds it; never leave a dead code looking usable. */
  function watchCode(box) {
    var id = box.dataset.id, expires = Date.now() + Number(box.dataset.ttl);
    var watchedUntil = Date.now() + 15 * 60 * 1000;
    var hint = document.getElementById("hint"), countdown = document.getElementById("countdown");
    function show(section) { document.getElementById(section).hidden = false; }
    function stale(why) {
      box.hidden = true;
      document.getElementById("stale-why").textContent = why;
      show("stale");
    }
    function tick() {
      var left = Math.ceil((expires - Date.now()) / 1000);
      countdown.textContent = left > 0 ? "还能用 " + left + " 秒" : "";
    }
    function check() {
      fetch("/h5/code/" + id + "/status", { credentials: "same-origin", cache: "no-store" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (s) {
          if (!s) { setTimeout(check, 4000); return; }
          expires = Date.now() + s.expires_in_ms;
          tick();
          document.getElementById("renew").hidden = Boolean(s.reserved_by);
          if (s.status === "used") {
            box.hidden = true;
            document.getElementById("receipt").textContent = s.text;
            document.getElementById("done-title").textContent = s.voided ? "已作废，积分已退回" : "兑换成功";
            show("done");
            // The shop may still void it (wrong goods): keep the page true for a while.
            if (!s.voided && Date.now() < watchedUntil) setTimeout(check, 5000);
            return;
          }
          if (s.reserved_by && s.status === "active") {
            hint.textContent = "店主正在结算…（" + s.reserved_by + "），请稍等，不要刷新。";
            setTimeout(check, 2000);
            return;
          }
          // Renew quietly shortly before the code runs out.
          if (s.status !== "active" || Date.now() > expires - 8000) { location.replace("/h5/code"); return; }
          setTimeout(check, 2000);
        })
        .catch(function () {
          if (Date.now() > expires) { stale("网络断了，付款码已经过期。连上网后点“刷新付款码”。"); return; }
          hint.textContent = "网络不太好，正在重连…";
          setTimeout(check, 4000);
        });
    }
    setInterval(tick, 1000);
    tick();
    setTimeout(check, 2000);
  }
  /* 亮屏大码: the code large on white, the screen kept awake where the browser can. */
  var awake = null;
  function bright(button) {
    var on = document.body.classList.toggle("bright");
    button.setAttribute("aria-pressed", String(on));
    button.textContent = on ? "恢复正常" : "亮屏大码（店主扫不上时用）";
    if (on && navigator.wakeLock) {
      navigator.wakeLock.request("screen").then(function (lock) { awake = lock; }, function () {});
    } else if (awake) {
      awake.release(); awake = null;
    }
  }
  var code = document.getElementById("code");
  if (code && code.dataset.ttl) watchCode(code);

  /* 申报: the photo shows as soon as it is chosen, and the form goes without leaving the
     page, so a refusal keeps what was typed and the photo; the refusal is at the top. */
  function claimForm(form) {
    var photo = document.getElementById("photo"), preview = document.getElementById("photo-preview");
    var box = document.getElementById("claim-error"), send = form.querySelector("button[type=submit]");
    function refuse(text) {
      box.textContent = text;
      box.hidden = false;
      box.scrollIntoView({ block: "center" });
      send.disabled = false;
    }
    photo.addEventListener("change", function () {
      if (preview.src) URL.revokeObjectURL(preview.src);
      var file = photo.files[0];
      preview.hidden = !file;
      if (file) preview.src = URL.createObjectURL(file);
    });
    form.addEventListener("submit", function (event) {
      var chosen = form.querySelector("input[name=item_id]:checked");
      if (chosen && chosen.hasAttribute("data-photo") && !photo.files.length) {
        event.preventDefault();
        refuse("这一项要附照片：请拍一张照片再提交。");
        return;
      }
      if (!window.fetch || !window.FormData || !window.DOMParser) return;
      event.preventDefault();
      send.disabled = true;
      fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" }).then(function (r) {
        if (r.redirected) { location.href = r.url; return null; }
        return r.text().then(function (html) {
          var said = new DOMParser().parseFromString(html, "text/html").querySelector("#claim-error, [role=alert]");
          refuse(said && said.textContent.trim() ? said.textContent.replace("照片要重新选一张。", "").trim() : "没有提交成功，请再试一次。");
        });
      }, function () { refuse("网络不太好，没有提交成功。填的都还在，请再点一次“提交申报”。"); });
    });
  }
  var claim = document.getElementById("claim-form");
  if (claim) claimForm(claim);

  window.jifen = { api: api, newKey: newKey, words: words };
})();
