// The course book's own script (added to every page by book/_ext/humanlib_book.py).
//
// 3D figures are framed for a laptop's text column (humanlib.bodyplot.FRAME_WIDTH): their
// camera stands just far enough back to see the whole scene box. On a narrower screen the same
// camera would crop bodies drawn side by side, so it steps back until the box fits the width.
// A title wider than its figure is drawn smaller instead of running off the edge.
// When every figure is fitted, <html data-humanlib-figures="ready"> (the browser tests wait for it).
(() => {
  const TAN_HALF_FOV = Math.tan(Math.PI / 8);  // plotly's 3D view: 45 degrees vertically
  const FILL = 0.9;  // share of the view the box may fill (as in humanlib.bodyplot)

  function cameraFor(gd) {
    const layout = gd._fullLayout;
    const scene = layout && layout.scene;
    if (!scene || !scene.camera || scene.aspectmode !== "manual") return null;
    const eye = scene.camera.eye, a = scene.aspectratio;
    const distance = Math.hypot(eye.x, eye.y, eye.z);
    if (!(distance > 0) || Math.abs(eye.z) < 0.8 * distance) return null;  // front views only
    const w = layout._size.w * (scene.domain.x[1] - scene.domain.x[0]);
    const h = layout._size.h * (scene.domain.y[1] - scene.domain.y[0]);
    const need = a.z / 2 + Math.max(a.y / 2, a.x / 2 / (w / h)) / (TAN_HALF_FOV * FILL);
    if (need <= distance * 1.01) return null;
    const k = need / distance;
    return {x: eye.x * k, y: eye.y * k, z: eye.z * k};
  }

  function titleSize(gd) {
    const title = gd.querySelector(".gtitle");
    if (!title) return null;
    const box = title.getBoundingClientRect();  // plotly's template puts the title at the left (x = 0.05)
    const room = gd.getBoundingClientRect().right - box.left - 6, width = box.width;
    if (!(width > room)) return null;
    return Math.max(9, Math.floor(gd._fullLayout.title.font.size * room / width));
  }

  async function fit(gd) {
    const update = {};
    const eye = cameraFor(gd);
    if (eye) update["scene.camera.eye"] = eye;
    const size = titleSize(gd);
    if (size) update["title.font.size"] = size;
    if (Object.keys(update).length) await window.Plotly.relayout(gd, update);
  }

  async function fitAll() {
    const divs = [...document.querySelectorAll(".plotly-graph-div")];
    for (let i = 0; i < 300 && !divs.every((d) => d.classList.contains("js-plotly-plot") && d._fullLayout); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    for (const gd of divs) {
      try { await fit(gd); } catch (err) { console.warn("humanlib-book: could not fit a figure", err); }
    }
    document.documentElement.dataset.humanlibFigures = "ready";
  }

  window.addEventListener("load", fitAll);
  let pending = null;
  window.addEventListener("resize", () => { clearTimeout(pending); pending = setTimeout(fitAll, 300); });
})();
