// What a student would see wrong on one page of the built book, measured in the browser.
// Evaluated by tests/test_book_html.py after the page loaded (MathJax done, plotly drawn);
// returns plain data, one list of problems per class of defect (empty lists: no defect).
(() => {
  const article = document.querySelector("article.bd-article") || document.querySelector("main") || document.body;
  const column = article.getBoundingClientRect();
  const viewport = document.documentElement.clientWidth;
  const describe = (el) => {
    const text = (el.innerText || el.textContent || "").trim().replace(/\s+/g, " ").slice(0, 60);
    return `<${el.tagName.toLowerCase()}${el.className && typeof el.className === "string" ? ` class="${el.className.trim().slice(0, 60)}"` : ""}> ${JSON.stringify(text)}`;
  };
  const shown = (el) => {
    const style = getComputedStyle(el);
    if (style.display === "none" || style.visibility === "hidden") return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };

  // ---- text a reader sees that a renderer should have turned into something else
  // Code, printed outputs and typeset math are allowed to contain anything.
  const skip = "pre, code, script, style, textarea, mjx-container, .MathJax, .highlight, .output, svg, .plotly-graph-div, .math";
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const rawTables = [], rawTex = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest(skip)) continue;
    const text = node.textContent;
    if (/\|\s*:?-{3,}:?\s*\|/.test(text) || /^\s*\|.*\|.*\|\s*$/m.test(text)) rawTables.push(text.trim().slice(0, 100));
    const tex = text.match(/\\[()[\]]|\$\$|\\(?:mathrm|mathbb|mathcal|frac|lVert|rVert|theta|beta|alpha|sum|top|hat|bar|mathbf|operatorname|sqrt|cdot|in)\b|\$[^$\s][^$]*\$/);
    if (tex) rawTex.push(text.trim().slice(Math.max(0, tex.index - 30), tex.index + 60));
  }

  // ---- content wider than the page or its column
  const overflow = [];
  if (document.documentElement.scrollWidth > viewport + 1) {
    overflow.push(`the page scrolls sideways: ${document.documentElement.scrollWidth} px of content in ${viewport} px`);
  }
  const scrolls = (el) => {
    for (let a = el.parentElement; a && a !== article; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (/(auto|scroll|hidden|clip)/.test(s.overflowX) && a.getBoundingClientRect().right <= column.right + 1) return true;
    }
    return false;
  };
  const offenders = [];
  for (const el of article.querySelectorAll("*")) {
    if (!shown(el) || el.closest("mjx-assistive-mml")) continue;
    const r = el.getBoundingClientRect();
    if (r.right > column.right + 1 && !scrolls(el)) {
      if (!offenders.some((o) => o.contains(el))) offenders.push(el);
    }
  }
  overflow.push(...offenders.slice(0, 10).map((el) => `${describe(el)} ends at ${Math.round(el.getBoundingClientRect().right)} px, the column at ${Math.round(column.right)} px`));

  // ---- images: a real description, drawn at a readable scale, inside the column
  const images = [];
  for (const img of article.querySelectorAll("img")) {
    const alt = (img.getAttribute("alt") || "").trim();
    const name = (img.getAttribute("src") || "").split("/").pop();
    if (!alt) images.push(`${name}: no alt text`);
    else if (/\.(png|jpe?g|svg|gif)\b|^[\w.-]*\//i.test(alt)) images.push(`${name}: alt text is a file path (${alt.slice(0, 80)})`);
    else if (img.closest(".cell_output") && /\[no [^\]]*\]/.test(alt)) images.push(`${name}: the figure lacks ${alt.match(/\[no [^\]]*\]/g).join(", ")} (${alt.slice(0, 160)})`);
    const w = img.getBoundingClientRect().width;
    if (w > column.width + 1) images.push(`${name}: ${Math.round(w)} px wide in a ${Math.round(column.width)} px column`);
    if (viewport >= 1000 && w > 0 && img.naturalWidth / w > 1.6) {
      images.push(`${name}: a ${img.naturalWidth} px image shown at ${Math.round(w)} px (its text is shrunk to ${Math.round(100 * w / img.naturalWidth)} %)`);
    }
  }

  // Numbers of a plotly data array: nested lists, typed arrays or base64 "bdata" objects.
  const kinds = {f4: Float32Array, f8: Float64Array, i1: Int8Array, u1: Uint8Array, i2: Int16Array, u2: Uint16Array, i4: Int32Array, u4: Uint32Array};
  const numbers = (v, out) => {
    if (v == null) return out;
    if (typeof v === "number") { if (isFinite(v)) out.push(v); return out; }
    if (v.bdata && kinds[v.dtype]) {
      const bytes = Uint8Array.from(atob(v.bdata), (ch) => ch.charCodeAt(0));
      return numbers(new kinds[v.dtype](bytes.buffer), out);
    }
    if (Array.isArray(v) || ArrayBuffer.isView(v)) for (const x of v) numbers(x, out);
    return out;
  };

  // ---- plotly figures: drawn, labelled, inside the column; 3D bodies inside their scene
  const figures = [], bodies = [], overlaps = [];
  const plots = [...document.querySelectorAll(".plotly-graph-div")];
  const drawn = plots.filter((gd) => gd.classList.contains("js-plotly-plot") && gd._fullLayout);
  const intersects = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
  drawn.forEach((gd, n) => {
    const layout = gd._fullLayout, input = gd.layout || {};
    const title = (layout.title && layout.title.text || "").trim();
    const id = `figure ${n + 1} (${JSON.stringify(title.slice(0, 50))})`;
    if (!title) figures.push(`${id}: no title`);
    const r = gd.getBoundingClientRect();
    if (r.right > column.right + 1 || r.width > column.width + 1) figures.push(`${id}: ${Math.round(r.width)} px wide, the column ${Math.round(column.width)} px`);
    // 2D axes that are drawn need a label
    for (const key of Object.keys(layout).filter((k) => /^[xy]axis\d*$/.test(k))) {
      const axis = layout[key];
      if (axis.visible && !(axis.title && axis.title.text)) figures.push(`${id}: ${key} has no label`);
    }
    // several traces: a legend that names each of them (a trace may opt out: showlegend false)
    const listed = gd.data.map((t, i) => [t, gd._fullData.find((f) => f.index === i)]).filter(([t]) => t.showlegend !== false);
    if (gd.data.length > 1 && listed.length > 0) {
      const missing = listed.filter(([t, f]) => !(layout.showlegend && f && f.showlegend)).map(([t]) => t.name || t.type);
      if (missing.length) figures.push(`${id}: ${gd.data.length} traces, but the legend does not list ${missing.join(", ")}`);
      const names = listed.map(([t]) => t.name || "");
      if (names.some((x) => !x || /^trace \d+$/.test(x))) figures.push(`${id}: a trace without a name in the legend`);
    }
    // every 3D scene: a fixed range on each axis that holds every vertex of every step of the figure
    const scenes = Object.keys(layout).filter((k) => /^scene\d*$/.test(k));
    for (const scene of scenes) {
      const ranges = {};
      for (const c of ["x", "y", "z"]) {
        const axisIn = ((input[scene] || {})[c + "axis"]) || {};
        if (!Array.isArray(axisIn.range) || axisIn.autorange === true) {
          bodies.push(`${id} ${scene}: the ${c} axis has no fixed range (the view follows the data, and moves between steps)`);
        }
        ranges[c] = layout[scene][c + "axis"].range;
        const axis = layout[scene][c + "axis"];
        if (axis.visible && axis.showticklabels && !(axis.title && axis.title.text)) figures.push(`${id}: ${scene} ${c} axis has numbers but no label`);
      }
      const check = (where, xs) => {
        for (const c of ["x", "y", "z"]) {
          const values = numbers(xs[c], []);
          if (!values.length || !ranges[c]) continue;
          let lo = Infinity, hi = -Infinity;
          for (const v of values) { if (v < lo) lo = v; if (v > hi) hi = v; }
          const [a, b] = ranges[c];
          const tol = 1e-6 * Math.max(1, Math.abs(b - a));
          if (lo < Math.min(a, b) - tol || hi > Math.max(a, b) + tol) {
            bodies.push(`${id} ${scene}, ${where}: ${c} spans [${lo.toFixed(3)}, ${hi.toFixed(3)}] outside the axis range [${a.toFixed(3)}, ${b.toFixed(3)}]`);
          }
        }
      };
      const inScene = (t) => /3d$/i.test(t.type || "") && (t.scene || "scene") === scene;
      gd.data.forEach((t, i) => { if (inScene(t)) check(`trace ${i} (${t.name || t.type})`, t); });
      for (const frame of (gd._transitionData && gd._transitionData._frames) || []) {
        (frame.data || []).forEach((t, i) => check(`frame ${frame.name} trace ${i}`, t));
      }
      for (const slider of input.sliders || []) {
        for (const step of slider.steps || []) {
          if (step.method === "restyle" && step.args && step.args[0]) check(`slider step ${step.label}`, step.args[0]);
        }
      }
    }
    // controls drawn over each other or over the title (phones)
    const titleBox = gd.querySelector(".gtitle");
    const modebar = gd.querySelector(".modebar");
    if (titleBox && modebar && shown(modebar) && getComputedStyle(modebar).opacity !== "0"
        && intersects(titleBox.getBoundingClientRect(), modebar.getBoundingClientRect())) {
      overlaps.push(`${id}: the plotly toolbar covers the title`);
    }
    const buttons = [...gd.querySelectorAll(".updatemenu-button")].map((b) => b.getBoundingClientRect());
    const labels = [...gd.querySelectorAll(".slider-label, .slider-label-group text, .slider-labels text, .slider-current-value")].map((t) => t.getBoundingClientRect());
    if (buttons.some((b) => labels.some((l) => l.width > 0 && intersects(b, l)))) overlaps.push(`${id}: the play buttons cover the slider's labels`);
    const legend = gd.querySelector(".legend");
    if (titleBox && legend && intersects(titleBox.getBoundingClientRect(), legend.getBoundingClientRect())) {
      overlaps.push(`${id}: the legend covers the title`);
    }
    // text plotly drew outside its own figure is cut off (slider labels under a zero bottom margin)
    const cut = [...gd.querySelectorAll(".main-svg text")].filter((t) => {
      const b = t.getBoundingClientRect();
      return b.width > 0 && b.height > 0 && (t.textContent || "").trim() && getComputedStyle(t).opacity !== "0"
        && (b.left < r.left - 2 || b.right > r.right + 2 || b.top < r.top - 2 || b.bottom > r.bottom + 2);
    });
    if (cut.length) {
      overlaps.push(`${id}: ${cut.length} label(s) cut off at the figure's edge, e.g. ${JSON.stringify(cut[0].textContent.trim().slice(0, 30))}`);
    }
    if (titleBox) {
      const t = titleBox.getBoundingClientRect();
      if (t.left < r.left - 1 || t.right > r.right + 1) overlaps.push(`${id}: the title is cut off (${Math.round(t.width)} px in a ${Math.round(r.width)} px figure)`);
    }
  });

  return {
    plotly: {figures: plots.length, drawn: drawn.length},
    math: {formulas: document.querySelectorAll(".math").length, typeset: document.querySelectorAll("mjx-container").length},
    rawTables, rawTex, overflow, images, figures, bodies, overlaps,
  };
})()
