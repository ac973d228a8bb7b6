/* The desk's page behaviours (loaded on /admin/ pages only), each switched on by the
   element it works on. */
(function () {
  "use strict";

  /* Settings: the 清零 date is sent only when points expire at all. */
  document.addEventListener("change", function (e) {
    if (!e.target.matches("select[data-expiry-kind]")) return;
    e.target.form.querySelectorAll(".expiry-date input").forEach(function (i) { i.disabled = e.target.value === "none"; });
  });

  /* 打印 buttons print the page as it is. */
  document.addEventListener("click", function (e) {
    if (e.target.matches("[data-print]")) window.print();
  });

  /* Checklist: 修改 fills the item form with the item to revise. */
  document.addEventListener("click", function (e) {
    if (!e.target.classList.contains("revise")) return;
    var item = JSON.parse(e.target.dataset.item), form = document.getElementById("item-form");
    form.dataset.api = "PUT /api/v1/checklist/" + e.target.dataset.id;
    delete form.dataset.key;
    ["code", "category", "title", "points", "period", "description"].forEach(function (k) { form.elements[k].value = item[k]; });
    form.elements.cap_count.value = item.cap_count === null ? "" : item.cap_count;
    form.elements.evidence_required.checked = item.evidence_required;
    form.elements.member_required.checked = item.member_required;
    form.querySelectorAll("input[name=proposers]").forEach(function (c) { c.checked = item.proposers.indexOf(c.value) >= 0; });
    document.getElementById("item-form-title").textContent = "修改：" + item.code + " " + item.title;
    form.scrollIntoView();
  });

  /* Awards: a whole group at once, a search over the households, the count picked. */
  var form = document.getElementById("award-form");
  if (form) {
    var count = function () { document.getElementById("picked").textContent = "已选 " + form.querySelectorAll("input[name=household_ids]:checked").length + " 户"; };
    form.addEventListener("change", function (e) {
      if (e.target.classList.contains("whole-group")) {
        e.target.closest("fieldset").querySelectorAll("input[name=household_ids]").forEach(function (c) { if (!c.closest("label").hidden) c.checked = e.target.checked; });
      }
      count();
    });
    document.getElementById("find").addEventListener("input", function (e) {
      var q = e.target.value.trim();
      form.querySelectorAll("label.household").forEach(function (l) { l.hidden = q !== "" && l.dataset.find.indexOf(q) < 0; });
    });
  }

  /* Review queue: the picked claims approved one after another, each leaving the queue
     as it goes (a claim still lacking the photo its item asks for cannot be picked). */
  var approvePicked = document.getElementById("approve-picked");
  if (approvePicked) {
    var picks = function () { return Array.prototype.slice.call(document.querySelectorAll(".pick-claim")); };
    document.getElementById("pick-all-claims").addEventListener("change", function (e) {
      picks().forEach(function (c) { c.checked = e.target.checked; });
    });
    approvePicked.addEventListener("click", function () {
      var picked = picks().filter(function (c) { return c.checked; });
      var box = document.getElementById("batch-message");
      if (!picked.length) { box.textContent = "请先勾选要通过的申报。"; return; }
      approvePicked.disabled = true;
      var done = 0, failed = [];
      picked.reduce(function (chain, c) {
        return chain.then(function () {
          return jifen.api("POST", "/api/v1/claims/" + c.value + "/approve", {}).then(function (a) {
            if (a.ok) { done += 1; c.closest("article").remove(); } else { failed.push(a.message); }
            box.textContent = "正在通过……" + done + " / " + picked.length;
          });
        });
      }, Promise.resolve()).then(function () {
        box.textContent = "已通过 " + done + " 条" + (failed.length ? "；" + failed.length + " 条没有通过：" + failed[0] : "。");
        approvePicked.disabled = false;
      });
    });
  }

  /* Household register: whole groups, household cards with the villager's PIN, unlock. */
  var register = document.getElementById("register");
  if (register) {
    register.addEventListener("change", function (e) {
      if (!e.target.classList.contains("whole-group")) return;
      e.target.closest("fieldset").querySelectorAll("input[name=household_ids]").forEach(function (c) { c.checked = e.target.checked; });
    });
    var dialog = document.getElementById("card-dialog"), rows = document.getElementById("card-rows");
    /* One PIN field per household, typed by the villager in front of the desk. */
    var openCards = function (households) {
      rows.textContent = "";
      document.getElementById("card-error").textContent = "";
      households.forEach(function (h) {
        var label = document.createElement("label"), input = document.createElement("input");
        label.textContent = h.name + " 的密码";
        input.type = "password"; input.inputMode = "numeric"; input.pattern = "[0-9]{4,6}";
        input.maxLength = 6; input.required = true; input.dataset.household = h.id;
        label.appendChild(input);
        rows.appendChild(label);
      });
      dialog.hidden = false;
      rows.querySelector("input").focus();
    };
    register.addEventListener("click", function (e) {
      if (e.target.classList.contains("card-for")) {
        openCards([{ id: Number(e.target.dataset.id), name: e.target.dataset.name }]);
      } else if (e.target.id === "cards-for-picked") {
        var picked = [];
        register.querySelectorAll("input[name=household_ids]:checked").forEach(function (c) {
          var button = c.closest("tr").querySelector(".card-for");
          picked.push({ id: Number(c.value), name: button.dataset.name });
        });
        document.getElementById("register-message").textContent = picked.length ? "" : "请先勾选要办户卡的农户。";
        if (picked.length) openCards(picked);
      }
    });
    var unlock = document.getElementById("unlock");
    unlock.addEventListener("submit", function (e) {
      e.preventDefault();
      var serial = unlock.elements.serial.value.trim().toUpperCase();
      jifen.api("POST", "/api/v1/cards/" + encodeURIComponent(serial) + "/unlock", {}).then(function (a) {
        var box = unlock.querySelector(".message") || unlock.appendChild(document.createElement("p"));
        box.className = "message " + (a.ok ? "ok" : "error");
        box.setAttribute("role", "alert");
        box.textContent = a.ok ? "已解锁：" + a.data.serial + " 可以再用了。" : a.message;
      });
    });
    document.getElementById("card-cancel").addEventListener("click", function () { dialog.hidden = true; });
    document.getElementById("card-form").addEventListener("submit", function (e) {
      e.preventDefault();
      var cards = [];
      rows.querySelectorAll("input").forEach(function (i) { cards.push({ household_id: Number(i.dataset.household), pin: i.value }); });
      var meta = document.querySelector("meta[name=csrf]").content;
      fetch("/api/v1/villages/" + this.dataset.village + "/cards/sheet", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": meta, "Idempotency-Key": jifen.newKey() },
        body: JSON.stringify({ cards: cards })
      }).then(function (r) {
        if (r.ok) return r.text().then(function (html) { document.open(); document.write(html); document.close(); });
        return r.json().then(function (p) { document.getElementById("card-error").textContent = jifen.words(r.status, p); });
      });
    });
  }
})();
