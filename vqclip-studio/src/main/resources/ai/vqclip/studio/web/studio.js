// vqclip studio: the page's logic. Plain JavaScript, no build step, no network beyond this studio.
'use strict';

const $ = (id) => document.getElementById(id);

/** What the page knows about the run it shows. */
const view = {
  run: null,          // the run's latest snapshot
  events: null,       // its EventSource
  losses: [],         // [iteration, loss]
  base: null,         // the paused picture before any paint (an offscreen canvas)
  paintedImage: false,
  paintedMask: false,
  stateSeq: 0,        // orders the state events' picture draws
};

// Read by the browser tests (and handy in the console): previews drawn and their latency from the step's end.
window.studio = { previews: 0, latencies: [], lastPreviewIteration: 0 };

async function api(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = { error: text }; }
  if (!res.ok) {
    throw new Error((data && data.error) || (res.status + ' ' + res.statusText));
  }
  return data;
}

function showError(e) {
  $('error').textContent = e ? String(e.message || e) : '';
}

// ------------------------------------------------------------------ prompt rows

function addPromptRow(container, text, weight) {
  const row = document.createElement('div');
  row.className = 'prompt-row';
  const t = document.createElement('input');
  t.type = 'text';
  t.className = 'prompt-text';
  t.placeholder = 'a red circle on a blue background';
  t.value = text || '';
  const w = document.createElement('input');
  w.type = 'number';
  w.step = '0.1';
  w.className = 'prompt-weight';
  w.title = 'weight (negative: away from it)';
  w.value = weight === undefined ? 1 : weight;
  const x = document.createElement('button');
  x.type = 'button';
  x.textContent = '×';
  x.title = 'remove';
  x.addEventListener('click', () => { if (container.children.length > 1) row.remove(); });
  row.append(t, w, x);
  container.append(row);
}

function readPrompts(container) {
  return [...container.querySelectorAll('.prompt-row')]
    .map((r) => ({ text: r.querySelector('.prompt-text').value, weight: Number(r.querySelector('.prompt-weight').value) }))
    .filter((p) => p.text.trim() !== '');
}

/** "a:1|b:-0.5" back into rows. */
function fillPrompts(container, spec) {
  container.textContent = '';
  for (const part of (spec || '').split('|')) {
    const i = part.lastIndexOf(':');
    if (i > 0) addPromptRow(container, part.slice(0, i), Number(part.slice(i + 1)));
    else if (part) addPromptRow(container, part, 1);
  }
  if (!container.children.length) addPromptRow(container, '', 1);
}

// ------------------------------------------------------------------ models

let models = [];

async function loadModels() {
  models = await api('GET', '/api/models');
  const sel = $('model');
  for (const m of models) {
    const o = document.createElement('option');
    o.value = m.name;
    o.textContent = m.name + ': ' + m.description;
    sel.append(o);
  }
  sel.addEventListener('change', applyModel);
  applyModel();
}

function applyModel() {
  const m = models.find((x) => x.name === $('model').value);
  if (!m) return;
  for (const id of ['width', 'height']) {
    $(id).value = m.defaultSize;
    $(id).step = m.sizeStep;
    $(id).min = m.sizeStep;
    $(id).max = m.maxSize;
  }
  $('iterations').max = m.maxIterations;
}

// ------------------------------------------------------------------ runs

async function start() {
  showError(null);
  try {
    const run = await api('POST', '/api/runs', {
      model: $('model').value,
      prompts: readPrompts($('prompt-rows')),
      width: Number($('width').value),
      height: Number($('height').value),
      iterations: Number($('iterations').value),
      seed: Number($('seed').value),
      previewEvery: Number($('preview-every').value),
    });
    watch(run.id);
  } catch (e) {
    showError(e);
  }
}

function watch(id) {
  if (view.events) view.events.close();
  view.losses = [];
  view.run = null;
  view.base = null;
  view.paintedImage = false;
  view.paintedMask = false;
  $('run-id').textContent = id.slice(0, 8);
  window.studio.runId = id;
  const es = new EventSource('/api/runs/' + id + '/events');
  view.events = es;
  es.addEventListener('state', (ev) => onState(JSON.parse(ev.data)));
  es.addEventListener('step', (ev) => onStep(JSON.parse(ev.data)));
}

function onState(s) {
  const first = !view.run || view.run.id !== s.id;
  const wasPaused = view.run && view.run.state === 'paused';
  view.run = Object.assign(view.run && view.run.id === s.id ? view.run : {}, s);
  if (s.losses) view.losses = s.losses;
  if (first) sizeCanvases(s.width, s.height);
  $('state').textContent = s.state;
  $('iteration').textContent = s.iteration;
  $('total').textContent = s.iterations;
  if (s.loss !== undefined) $('loss').textContent = s.loss.toFixed(4);
  if (s.error) showError(s.error);
  const editable = s.state === 'paused' || s.state === 'finished';
  // A fresh pause or finish shows the result and starts a clean paint layer; a repeated state event keeps the paint.
  const shown = s.image && (!editable || !wasPaused || first) ? drawImage(s.image, null) : Promise.resolve();
  if (editable && (!wasPaused || first)) {
    clearMask();
    fillPrompts($('resume-rows'), s.prompts);
  }
  $('pause').disabled = !(s.state === 'running' || s.state === 'queued');
  $('paint-tools').disabled = !editable;
  $('resume-box').disabled = !editable;
  $('edit-box').disabled = !editable;
  // The body's data-state (which the tests wait for) changes once the state's picture is on the canvas.
  const seq = ++view.stateSeq;
  shown.then(() => { if (seq === view.stateSeq) document.body.dataset.state = s.state; });
  showDownloads(s);
  drawCurve();
  if (s.state === 'finished') loadGallery();
}

function onStep(e) {
  view.losses.push([e.iteration - 1, e.loss]);
  $('iteration').textContent = e.iteration;
  $('total').textContent = e.iterations;
  $('loss').textContent = e.loss.toFixed(4);
  // A preview draws unless the run is paused or finished at or after it (the page may be painting that picture).
  const still = view.run && (view.run.state === 'paused' || view.run.state === 'finished') && e.iteration <= view.run.iteration;
  if (e.image && !still) {
    drawImage(e.image, e);
  }
  if (view.losses.length % 5 === 0 || e.image) drawCurve();
}

function sizeCanvases(w, h) {
  for (const id of ['image', 'mask-layer']) {
    $(id).width = w;
    $(id).height = h;
  }
}

/** Draws a PNG data URL on the picture canvas; for a preview, counts it and its latency. Resolves once drawn. */
function drawImage(url, step) {
  return new Promise((resolve) => drawImageThen(url, step, resolve));
}

function drawImageThen(url, step, done) {
  const img = new Image();
  img.onerror = () => done();
  img.onload = () => {
    const c = $('image');
    if (c.width !== img.width || c.height !== img.height) sizeCanvases(img.width, img.height);
    c.getContext('2d').drawImage(img, 0, 0);
    const base = document.createElement('canvas');
    base.width = img.width;
    base.height = img.height;
    base.getContext('2d').drawImage(img, 0, 0);
    view.base = base;
    view.paintedImage = false;
    if (step) {
      const ms = Date.now() - step.t;
      window.studio.previews++;
      window.studio.latencies.push(ms);
      window.studio.lastPreviewIteration = step.iteration;
      c.dataset.iteration = step.iteration;
      $('latency').textContent = ms + ' ms';
    }
    done();
  };
  img.src = url;
}

function showDownloads(s) {
  const d = $('downloads');
  d.textContent = '';
  if (!s.files) return;
  for (const [label, key] of [['PNG', 'png'], ['checkpoint', 'checkpoint'], ['animation', 'animation'], ['manifest', 'manifest']]) {
    const a = document.createElement('a');
    a.href = s.files[key];
    a.textContent = label;
    a.download = '';
    a.className = 'download-' + key;
    d.append(a);
  }
}

function drawCurve() {
  const c = $('loss-curve');
  const g = c.getContext('2d');
  g.clearRect(0, 0, c.width, c.height);
  const pts = view.losses;
  if (pts.length < 2) return;
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of pts) { lo = Math.min(lo, p[1]); hi = Math.max(hi, p[1]); }
  const span = hi - lo || 1;
  const last = pts[pts.length - 1][0] || 1;
  g.strokeStyle = '#2b5fd9';
  g.lineWidth = 1.5;
  g.beginPath();
  pts.forEach((p, i) => {
    const x = 4 + (p[0] / last) * (c.width - 8);
    const y = 4 + (1 - (p[1] - lo) / span) * (c.height - 20);
    if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
  });
  g.stroke();
  g.fillStyle = '#777';
  g.font = '11px sans-serif';
  g.fillText('loss ' + lo.toFixed(3) + ' .. ' + hi.toFixed(3) + ', ' + pts.length + ' steps', 6, c.height - 4);
}

async function pause() {
  try {
    await api('POST', '/api/runs/' + view.run.id + '/pause');
  } catch (e) {
    showError(e);
  }
}

async function resume() {
  showError(null);
  const body = { prompts: readPrompts($('resume-rows')), iterations: Number($('more').value) };
  if (view.paintedImage) body.image = $('image').toDataURL('image/png');
  if (view.paintedMask) body.mask = $('mask-layer').toDataURL('image/png');
  try {
    await api('POST', '/api/runs/' + view.run.id + '/resume', body);
    view.paintedImage = false;
    view.paintedMask = false;
  } catch (e) {
    showError(e);
  }
}

async function edit() {
  showError(null);
  const body = { from: $('edit-from').value, to: $('edit-to').value, iterations: Number($('edit-iterations').value) };
  if (view.paintedMask) body.mask = $('mask-layer').toDataURL('image/png');
  try {
    const run = await api('POST', '/api/runs/' + view.run.id + '/edit', body);
    watch(run.id);
  } catch (e) {
    showError(e);
  }
}

// ------------------------------------------------------------------ painting

function layer() {
  return document.querySelector('input[name=layer]:checked').value;
}

function clearMask() {
  const m = $('mask-layer');
  m.getContext('2d').clearRect(0, 0, m.width, m.height);
  view.paintedMask = false;
}

function undoPaint() {
  if (!view.base) return;
  $('image').getContext('2d').drawImage(view.base, 0, 0);
  view.paintedImage = false;
}

/** Canvas pixel coordinates of a pointer event (the canvases are shown enlarged). */
function at(ev) {
  const c = $('mask-layer');
  const r = c.getBoundingClientRect();
  return [((ev.clientX - r.left) * c.width) / r.width, ((ev.clientY - r.top) * c.height) / r.height];
}

/** One brush segment from a to b on the chosen layer. */
function stroke(a, b) {
  const size = Number($('brush').value);
  const erase = $('eraser').checked;
  if (layer() === 'mask') {
    const g = $('mask-layer').getContext('2d');
    g.save();
    g.globalCompositeOperation = erase ? 'destination-out' : 'source-over';
    line(g, a, b, size, '#ff0000');
    g.restore();
    view.paintedMask = true;
    return;
  }
  const g = $('image').getContext('2d');
  if (erase && view.base) {
    // The eraser brings back the paused picture under the brush.
    g.save();
    g.beginPath();
    g.lineWidth = size;
    capsule(g, a, b, size / 2);
    g.clip();
    g.drawImage(view.base, 0, 0);
    g.restore();
  } else {
    line(g, a, b, size, $('colour').value);
  }
  view.paintedImage = true;
}

function line(g, a, b, size, colour) {
  g.strokeStyle = colour;
  g.fillStyle = colour;
  g.lineWidth = size;
  g.lineCap = 'round';
  g.beginPath();
  g.moveTo(a[0], a[1]);
  g.lineTo(b[0], b[1]);
  g.stroke();
  g.beginPath();
  g.arc(b[0], b[1], size / 2, 0, 2 * Math.PI);
  g.fill();
}

function capsule(g, a, b, r) {
  const steps = Math.max(1, Math.ceil(Math.hypot(b[0] - a[0], b[1] - a[1])));
  for (let i = 0; i <= steps; i++) {
    const x = a[0] + ((b[0] - a[0]) * i) / steps;
    const y = a[1] + ((b[1] - a[1]) * i) / steps;
    g.moveTo(x + r, y);
    g.arc(x, y, r, 0, 2 * Math.PI);
  }
}

function setupPainting() {
  const c = $('mask-layer');
  let last = null;
  c.addEventListener('pointerdown', (ev) => {
    if ($('paint-tools').disabled) return;
    c.setPointerCapture(ev.pointerId);
    last = at(ev);
    stroke(last, last);
  });
  c.addEventListener('pointermove', (ev) => {
    if (!last) return;
    const p = at(ev);
    stroke(last, p);
    last = p;
  });
  const end = () => { last = null; };
  c.addEventListener('pointerup', end);
  c.addEventListener('pointercancel', end);
}

// ------------------------------------------------------------------ gallery

async function loadGallery() {
  let runs;
  try {
    runs = await api('GET', '/api/gallery');
  } catch (e) {
    showError(e);
    return;
  }
  const g = $('gallery');
  g.textContent = '';
  for (const r of runs) {
    const fig = document.createElement('figure');
    fig.className = 'gallery-item';
    fig.dataset.id = r.id;
    const img = document.createElement('img');
    img.src = r.files.png;
    img.alt = r.prompts;
    const cap = document.createElement('figcaption');
    cap.textContent = r.prompts + (r.edit ? ' (edit ' + r.edit + ')' : '') + ', seed ' + r.seed + ', ' + r.iteration + ' iterations';
    const links = document.createElement('div');
    links.className = 'buttons';
    for (const [label, key] of [['PNG', 'png'], ['checkpoint', 'checkpoint'], ['animation', 'animation']]) {
      const a = document.createElement('a');
      a.href = r.files[key];
      a.textContent = label;
      a.download = '';
      links.append(a);
    }
    const open = document.createElement('button');
    open.type = 'button';
    open.textContent = 'open';
    open.addEventListener('click', () => watch(r.id));
    links.append(open);
    const details = document.createElement('details');
    const sum = document.createElement('summary');
    sum.textContent = 'manifest';
    const pre = document.createElement('pre');
    pre.className = 'manifest';
    pre.textContent = JSON.stringify(r.manifest, null, 1);
    details.append(sum, pre);
    fig.append(img, cap, links, details);
    g.append(fig);
  }
}

// ------------------------------------------------------------------ start

document.addEventListener('DOMContentLoaded', () => {
  addPromptRow($('prompt-rows'), 'a red circle on a blue background', 1);
  addPromptRow($('resume-rows'), '', 1);
  $('add-prompt').addEventListener('click', () => addPromptRow($('prompt-rows'), '', 1));
  $('resume-add-prompt').addEventListener('click', () => addPromptRow($('resume-rows'), '', 1));
  $('start').addEventListener('click', start);
  $('pause').addEventListener('click', pause);
  $('resume').addEventListener('click', resume);
  $('edit').addEventListener('click', edit);
  $('undo-paint').addEventListener('click', undoPaint);
  $('clear-mask').addEventListener('click', clearMask);
  $('refresh-gallery').addEventListener('click', loadGallery);
  setupPainting();
  loadModels().catch(showError);
  loadGallery();
});
