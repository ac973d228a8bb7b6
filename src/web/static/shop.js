/* The shop counter. The scan field keeps the focus so a scanner gun (digits + Enter) always
   lands in it; payment codes are 18 digits, household cards 25. Points are handled in
   hundredths so that sums are exact. */
(function () {
  "use strict";
  var root = document.getElementById("counter");
  if (!root) return;
  var shop = root.dataset.shop;
  var $ = function (id) { return document.getElementById(id); };
  var scan = $("scan");
  var current = null;   /* {code} or {card_token}, with the household as scanned */
  var cart = {};        /* goods id -> quantity */
  var key = null;       /* Idempotency-Key of the redemption being confirmed */
  var pin = "";
  var last = null;      /* the receipt just made */

  var goods = {}, barcodes = {};
  Array.prototype.forEach.call(document.querySelectorAll(".tile"), function (t) {
    goods[t.dataset.id] = { name: t.dataset.name, unit: t.dataset.unit, price: cents(t.dataset.price), stock: Number(t.dataset.stock) };
    if (t.dataset.barcode) barcodes[t.dataset.barcode] = t.dataset.id;
  });

  function cents(text) { return Math.round(parseFloat(text) * 100); }
  /* Points as people read them: "36", and two decimals only with hundredths ("36.50"). */
  function points(c) { return c % 100 === 0 ? String(c / 100) : (c / 100).toFixed(2); }
  function shown(text) { return points(cents(text)); }
  function padOpen() { return !$("pinpad").hidden || !$("void-dialog").hidden; }
  function say(text, good) {
    var box = $("status");
    box.textContent = text || "";
    box.className = "message " + (good ? "ok" : "error");
  }

  /* Keep the scan field ready unless the villager is typing a PIN or staff type a name. */
  function refocus() {
    var active = document.activeElement;
    if (padOpen() || (active && active.id === "proxy")) return;
    scan.focus();
  }
  scan.addEventListener("blur", function () { window.setTimeout(refocus, 0); });
  document.addEventListener("click", function () { window.setTimeout(refocus, 0); });

  function total() {
    var sum = 0;
    Object.keys(cart).forEach(function (id) { sum += goods[id].price * cart[id]; });
    return sum;
  }

  function render() {
    $("household").hidden = !current;
    $("cart").hidden = !current;
    if (!current) return;
    $("h-name").textContent = current.household.door_no + " · " + current.household.display_name;
    $("h-points").textContent = shown(current.household.points);
    var list = $("cart-lines");
    list.textContent = "";
    Object.keys(cart).forEach(function (id) {
      var g = goods[id];
      var li = document.createElement("li");
      var name = document.createElement("span");
      name.textContent = g.name + " × " + cart[id] + " " + g.unit;
      var buttons = document.createElement("span");
      [["−", -1], ["+", 1]].forEach(function (b) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "step";
        button.textContent = b[0];
        button.setAttribute("aria-label", (b[1] > 0 ? "加一" : "减一") + g.unit + g.name);
        button.addEventListener("click", function () { add(id, b[1]); });
        buttons.appendChild(button);
      });
      li.appendChild(name);
      li.appendChild(buttons);
      list.appendChild(li);
    });
    var sum = total();
    var have = cents(current.household.points);
    $("cart-total").textContent = points(sum);
    $("cart-left").textContent = points(have - sum);
    $("confirm").disabled = sum === 0 || sum > have;
    if (sum > have) say("积分不够：还差 " + points(sum - have) + " 分。", false);
  }

  function add(id, step) {
    if (!current) { say("请先扫村民的付款码或户卡。", false); return; }
    var next = (cart[id] || 0) + step;
    if (next > goods[id].stock) { say(goods[id].name + " 只剩 " + goods[id].stock + goods[id].unit + "。", false); return; }
    if (next <= 0) delete cart[id]; else cart[id] = next;
    say("");
    key = null;
    render();
  }

  Array.prototype.forEach.call(document.querySelectorAll(".tile"), function (t) {
    t.addEventListener("click", function () { add(t.dataset.id, 1); });
  });

  function reset() {
    current = null; cart = {}; key = null; pin = ""; last = null;
    $("proxy").value = "";
    $("receipt").hidden = true;
    render();
  }

  /* A payment code (18 digits) or a household card (25): who is it, how many points.
     A card's QR holds its sign-in address, ".../h5/login?card=<25 digits>". */
  function lookup(text) {
    var card = /[?&]card=([0-9 ]+)/.exec(String(text || ""));
    var digits = String(card ? card[1] : text || "").replace(/\D/g, "");
    if (!digits) return;
    /* A product's own barcode (EAN-13, EAN-8, UPC-A) adds one of it to the cart. */
    if (!card && (digits.length === 13 || digits.length === 8 || digits.length === 12)) {
      if (barcodes[digits]) add(barcodes[digits], 1);
      else say("本店没有条码为 " + digits + " 的商品，请点商品或到“商品和进货”里登记条码。", false);
      return;
    }
    if (digits.length !== 18 && digits.length !== 25) {
      say("这不是付款码（18 位）、户卡（25 位）或商品条码，请再扫一次。", false);
      return;
    }
    var who = digits.length === 25 ? { card_token: digits } : { code: digits };
    say("正在查询……", true);
    jifen.api("POST", "/api/v1/shops/" + shop + "/scan", who).then(function (a) {
      if (!a.ok) { say(a.message, false); return; }
      reset();
      current = who;
      current.household = a.data;
      say(a.data.door_no + " " + a.data.display_name + "，可用 " + shown(a.data.points) + " 分。请点商品。", true);
      render();
    });
  }

  /* Enter on an empty scan field confirms a ready cart: the queue never waits on a mouse. */
  $("scan-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var text = scan.value;
    scan.value = "";
    if (!text.trim()) { if (current && !$("confirm").disabled) $("confirm").click(); return; }
    lookup(text);
  });

  /* Inside WeChat: WeChat's own scanner through its JS bridge, after the page proves
     itself with a wx.config signature from the server (the JS-SDK's preVerifyJSAPI). */
  function bridge(name, args) {
    return new Promise(function (resolve) { window.WeixinJSBridge.invoke(name, args, resolve); });
  }
  var wxScan = $("wx-scan");
  if (wxScan) wxScan.addEventListener("click", function () {
    if (!window.WeixinJSBridge) { say("微信扫一扫暂时用不了，请用扫码枪或手输数字。", false); return; }
    var url = location.href.split("#")[0];
    jifen.api("GET", "/shop/wechat-config?url=" + encodeURIComponent(url)).then(function (a) {
      if (!a.ok) { say("微信扫一扫暂时用不了，请用扫码枪或手输数字。", false); return null; }
      var verify = { appId: a.data.appId, verifyAppId: a.data.appId, verifySignType: "sha1",
        verifyTimestamp: String(a.data.timestamp), verifyNonceStr: a.data.nonceStr, verifySignature: a.data.signature };
      return bridge("preVerifyJSAPI", Object.assign({ verifyJsApiList: ["scanQRCode"] }, verify)).then(function (r) {
        if (!/:ok$/.test(r.err_msg || "")) throw r;
        return bridge("scanQRCode", Object.assign({ needResult: 1, scanType: ["qrCode", "barCode"] }, verify));
      });
    }).then(function (r) {
      if (!r) return;
      if (!/:ok$/.test(r.err_msg || "")) { say("没有扫到，请再试一次。", false); return; }
      var text = r.resultStr;
      try { var parsed = JSON.parse(text); if (parsed && parsed.scan_code) text = parsed.scan_code.scan_result; } catch (e) { /* plain text */ }
      /* A barcode comes back as "CODE_128,<digits>". */
      text = String(text || "").split(",").pop();
      lookup(text);
    }, function () { say("微信扫一扫暂时用不了，请用扫码枪或手输数字。", false); });
  });

  function lines() {
    return Object.keys(cart).map(function (id) { return { goods_id: Number(id), quantity: cart[id] }; });
  }

  function redeem() {
    var body = { lines: lines() };
    if (current.code) body.code = current.code; else { body.card_token = current.card_token; body.pin = pin; }
    var proxy = $("proxy").value.trim();
    if (proxy) body.proxy_name = proxy;
    key = key || jifen.newKey();
    $("confirm").disabled = true;
    jifen.api("POST", "/api/v1/shops/" + shop + "/redemptions", body, key).then(function (a) {
      pin = "";
      if (!a.ok) {
        /* Keep the key when the outcome is unknown, so a retry cannot pay twice. */
        if (a.status >= 400 && a.status < 500) key = null;
        say(a.message, false);
        var code = a.data && a.data.code;
        if (code === "code_expired" || code === "code_used" || code === "code_invalid") {
          current = null;
          say(a.message + " 请村民刷新付款码后重新扫。", false);
        }
        render();
        return;
      }
      last = a.data;
      showReceipt(a.data);
    });
  }

  function showReceipt(r) {
    $("household").hidden = true;
    $("cart").hidden = true;
    $("receipt").hidden = false;
    $("r-no").textContent = r.receipt_no;
    $("r-total").textContent = shown(r.total_points);
    $("r-after").textContent = shown(r.points_after);
    $("r-print").href = "/shop/receipts/" + r.id;
    var list = $("r-lines");
    list.textContent = "";
    r.lines.forEach(function (l) {
      var li = document.createElement("li");
      li.textContent = l.name + " × " + l.quantity + " " + l.unit + "　" + shown(l.points) + " 分";
      list.appendChild(li);
    });
    say("兑换成功，小票号 " + r.receipt_no + "。", true);
  }

  $("confirm").addEventListener("click", function () {
    if (!current) return;
    if (current.card_token && !pin) { openPad(); return; }
    redeem();
  });
  $("cancel").addEventListener("click", function () { reset(); say("已取消。请扫下一位。", true); });
  $("next").addEventListener("click", function () { location.reload(); });

  /* Void asks in the page, then says it is done; the row of today's list says so too. */
  var voiding = null;
  function askVoid(id, what, row) {
    voiding = { id: id, row: row, key: jifen.newKey() };
    $("void-what").textContent = what;
    $("void-error").textContent = "";
    $("void-dialog").hidden = false;
    $("void-reason").focus();
  }
  function closeVoid() { $("void-dialog").hidden = true; voiding = null; refocus(); }
  $("void-cancel").addEventListener("click", closeVoid);
  $("void-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var v = voiding;
    if (!v) return;
    jifen.api("POST", "/api/v1/redemptions/" + v.id + "/void", { reason: $("void-reason").value }, v.key).then(function (a) {
      if (!a.ok) { $("void-error").textContent = a.message; return; }
      closeVoid();
      if (v.row) { v.row.classList.add("voided"); v.row.querySelector(".void-cell").textContent = "已撤销"; }
      if (last && last.id === a.data.id) { $("r-void").hidden = true; }
      say("已撤销 " + a.data.receipt_no + "：" + shown(a.data.total_points) + " 分已退回 " + a.data.door_no + "，商品已回到库存。", true);
    });
  });
  $("r-void").addEventListener("click", function () {
    if (last) askVoid(last.id, last.receipt_no + " · " + last.door_no + " · " + shown(last.total_points) + " 分", null);
  });
  Array.prototype.forEach.call(document.querySelectorAll("button.void"), function (b) {
    b.addEventListener("click", function () { askVoid(Number(b.dataset.id), b.dataset.what, b.closest("tr")); });
  });

  /* The PIN pad, turned towards the villager. */
  function openPad() {
    pin = ""; dots();
    $("pin-amount").textContent = "本次兑换 " + points(total()) + " 分";
    $("pinpad").hidden = false;
  }
  function closePad() { $("pinpad").hidden = true; refocus(); }
  function dots() { $("pin-dots").textContent = pin.replace(/./g, "●") || "　"; }
  Array.prototype.forEach.call(document.querySelectorAll("#pinpad [data-key]"), function (b) {
    b.addEventListener("click", function (event) {
      event.stopPropagation();
      var k = b.dataset.key;
      if (k === "close") { pin = ""; closePad(); return; }
      if (k === "back") { pin = pin.slice(0, -1); dots(); return; }
      if (k === "ok") {
        if (pin.length < 4) { $("pin-dots").textContent = "密码是 4 到 6 位"; return; }
        closePad();
        redeem();
        return;
      }
      if (pin.length < 6) pin += k;
      dots();
    });
  });

  /* The PIN pad takes digits from the keyboard too (a USB keypad at the counter). */
  document.addEventListener("keydown", function (event) {
    if ($("pinpad").hidden) return;
    var k = event.key;
    var keyOf = /^[0-9]$/.test(k) ? k : k === "Backspace" ? "back" : k === "Enter" ? "ok" : k === "Escape" ? "close" : null;
    if (!keyOf) return;
    event.preventDefault();
    document.querySelector("#pinpad [data-key='" + keyOf + "']").click();
  });

  refocus();
})();
