(() => {
  const px = (el, prop) => el ? parseFloat(getComputedStyle(el)[prop]) : 0;
  const visible = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  // The lowest contrast of any visible text on the page.
  let contrast = 21;
  for (const el of document.querySelectorAll("body *")) {
    const own = Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !visible(el)) continue;
    const a = lum(rgb(getComputedStyle(el).color)), b = lum(background(el));
    contrast = Math.min(contrast, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05));
  }
  // A radio or checkbox is tapped through its label.
  const interactive = Array.from(document.querySelectorAll("a, button, input:not([type=hidden])"))
    .map((e) => (e.type === "radio" || e.type === "checkbox") && e.closest("label") ? e.closest("label") : e)
    .filter(visible);
  const mainButtons = Array.from(document.querySelectorAll(".button")).filter(visible);
  // WeChat's larger text: the page must still fit the screen's width.
  const root = document.documentElement;
  const before = root.style.fontSize;
  root.style.fontSize = "150%";
  const overflow = root.scrollWidth > window.innerWidth + 1;
  root.style.fontSize = before;
  const entries = [performance.getEntriesByType("navigation")[0]].concat(performance.getEntriesByType("resource"));
  return {
    body_px: px(document.body, "fontSize"),
    figure_px: Math.min(...Array.from(document.querySelectorAll(".figure, .digits")).filter(visible).map((e) => px(e, "fontSize")), 99),
    main_button_px: Math.min(...mainButtons.map((e) => e.getBoundingClientRect().height), 99),
    tap_px: Math.min(...interactive.map((e) => e.getBoundingClientRect().height), 99),
    contrast: contrast,
    enlarged_overflow: overflow,
    bytes: entries.reduce((sum, e) => sum + (e.transferSize || e.encodedBodySize || 0), 0),
    foreign: entries.filter((e) => !e.name.startsWith(location.origin)).length,
  };
})()
