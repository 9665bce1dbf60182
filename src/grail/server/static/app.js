// grail web page. Plain JavaScript, no build step. Every piece of document or
// model text goes into the page with textContent, never innerHTML.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { collection: "default", jobTimer: null };

function el(tag, text, attrs) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  return node;
}

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
}

function headers(extra) {
  const h = Object.assign({}, extra || {});
  const key = localStorage.getItem("grail-api-key");
  if (key) h["Authorization"] = "Bearer " + key;
  return h;
}

function url(path) {
  const sep = path.includes("?") ? "&" : "?";
  return path + sep + "collection=" + encodeURIComponent(state.collection);
}

async function failure(resp) {
  let message = resp.status + " " + resp.statusText;
  try {
    const body = await resp.json();
    if (body && body.error && body.error.message) message = body.error.message;
  } catch (e) { /* not JSON */ }
  if (resp.status === 401) { $("key-button").hidden = false; $("key-panel").hidden = false; }
  return new Error(message);
}

async function api(path, options) {
  const opts = Object.assign({}, options || {});
  opts.headers = headers(opts.headers);
  const resp = await fetch(url(path), opts);
  if (!resp.ok) throw await failure(resp);
  return resp.json();
}

// -- asking -----------------------------------------------------------------------
async function ask(question) {
  showError("");
  const answer = $("answer");
  answer.textContent = "";
  $("abstain").hidden = true;
  $("citations").replaceChildren();
  $("explain-box").hidden = true;
  $("answer-box").hidden = false;
  $("answer-box").setAttribute("aria-busy", "true");
  const resp = await fetch(url("/v1/ask"), {
    method: "POST", headers: headers({"Content-Type": "application/json"}),
    body: JSON.stringify({question: question, stream: true}),
  });
  if (!resp.ok) throw await failure(resp);
  const reader = resp.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const {value, done} = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, {stream: true});
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      handleEvent(block);
    }
  }
  $("answer-box").setAttribute("aria-busy", "false");
}

function handleEvent(block) {
  let event = "message", data = "";
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) event = line.slice(6).trim();
    else if (line.startsWith("data:")) data += line.slice(5).trim();
  }
  const payload = data ? JSON.parse(data) : {};
  if (event === "token") {
    $("answer").append(document.createTextNode(payload.text));
  } else if (event === "answer") {
    renderAnswer(payload);
  } else if (event === "error") {
    showError(payload.message);
  }
}

function renderAnswer(ans) {
  $("answer").textContent = ans.text;  // the verified answer replaces the streamed draft
  if (ans.abstained) {
    $("abstain").textContent = "No supported answer: " + ans.abstain_reason +
      (ans.citations.length ? ". Closest passages:" : "");
    $("abstain").hidden = false;
  }
  const chips = $("citations");
  chips.replaceChildren();
  for (const c of ans.citations) {
    const chip = el("button", "[" + c.n + "] " + c.name + ", p. " + c.page,
                    {type: "button", class: "chip", "aria-pressed": "false",
                     title: "Show the cited passage on its page"});
    chip.dataset.n = c.n;
    chip.addEventListener("click", () => {
      for (const other of chips.children) other.setAttribute("aria-pressed", "false");
      chip.setAttribute("aria-pressed", "true");
      showPassage(c).catch((e) => showError(e.message));
    });
    chips.append(chip);
  }
  renderExplain(ans.trace ? ans.trace.stages : []);
}

async function showPassage(c) {
  const page = await api("/v1/documents/" + encodeURIComponent(c.doc_id) + "/pages/" + c.page);
  const text = page.text;
  const box = $("passage");
  const mark = el("mark", text.slice(c.char_start, c.char_end));
  box.replaceChildren(document.createTextNode(text.slice(0, c.char_start)), mark,
                      document.createTextNode(text.slice(c.char_end)));
  $("passage-where").textContent = "[" + c.n + "] " + page.name + " — page " + page.page + " of " + page.n_pages;
  $("passage-box").hidden = false;
  box.scrollTop = Math.max(0, mark.offsetTop - box.offsetTop - 40);
  $("passage-box").scrollIntoView({block: "nearest"});
  box.focus({preventScroll: true});
}

function table(rows, columns) {
  const t = el("table");
  const head = el("tr");
  for (const c of columns) head.append(el("th", c, {scope: "col"}));
  t.append(head);
  for (const r of rows) {
    const tr = el("tr");
    for (const c of columns) {
      let v = r[c];
      if (c === "path") v = String(v).split("/").pop();
      tr.append(el("td", v));
    }
    t.append(tr);
  }
  return t;
}

function renderExplain(stages) {
  const box = $("explain");
  box.replaceChildren();
  for (const st of stages) {
    const section = el("section");
    section.append(el("h3", st.name + " — " + (st.seconds * 1000).toFixed(1) + " ms"));
    const d = st.data || {};
    if (st.name === "retrieve") {
      for (const name of ["fused", "dense", "bm25"]) {
        if (d[name]) {
          section.append(el("p", name, {class: "note"}));
          section.append(table(d[name].slice(0, 8), ["rank", "score", "page", "path"]));
        }
      }
    } else if (st.name === "context") {
      section.append(el("p", "packed " + d.sources.length + " sources, " + d.n_tokens + " tokens of a " +
                         d.budget + " budget; dropped " + d.dropped.length));
      section.append(el("pre", d.prompt));
    } else if (st.name === "generate") {
      section.append(el("p", "backend: " + d.backend));
      section.append(el("pre", d.raw_output));
    } else {
      section.append(el("pre", JSON.stringify(d, null, 1)));
    }
    box.append(section);
  }
  $("explain-box").hidden = stages.length === 0;
}

// -- documents ---------------------------------------------------------------------
async function loadDocuments() {
  const data = await api("/v1/documents");
  const list = $("documents");
  list.replaceChildren();
  for (const p of data.pending) {
    const li = el("li");
    const label = el("span", p.name, {class: "name"});
    label.append(el("span", p.status + "…", {class: "meta"}));
    li.append(label);
    list.append(li);
  }
  for (const d of data.documents) {
    const li = el("li");
    const label = el("span", d.name, {class: "name"});
    label.append(el("span", d.doc_type + ", " + d.n_pages + " page(s), " + d.n_chunks + " chunks", {class: "meta"}));
    const del = el("button", "Delete", {type: "button", class: "danger", "aria-label": "Delete " + d.name});
    del.addEventListener("click", async () => {
      if (!confirm("Remove " + d.name + " from the index?")) return;
      try {
        await api("/v1/documents/" + encodeURIComponent(d.doc_id), {method: "DELETE"});
        await loadDocuments();
      } catch (e) { showError(e.message); }
    });
    li.append(label, del);
    list.append(li);
  }
  if (!list.children.length) list.append(el("li", "Nothing indexed yet: upload a file.", {class: "note"}));
}

async function upload(files) {
  const form = new FormData();
  for (const f of files) form.append("files", f, f.name);
  const data = await api("/v1/documents", {method: "POST", body: form});
  watchJob(data.job.id);
}

function watchJob(id) {
  $("job").hidden = false;
  clearTimeout(state.jobTimer);
  const tick = async () => {
    let job;
    try { job = await api("/v1/jobs/" + encodeURIComponent(id)); } catch (e) { showError(e.message); return; }
    $("job-progress").value = job.progress;
    const failed = job.failures.map((f) => f.file + ": " + f.reason).join("; ");
    $("job-text").textContent = job.status === "done" || job.status === "failed"
      ? "Indexing " + job.status + " (" + job.done + "/" + job.total + " files)" + (failed ? " — " + failed : "")
        + (job.error ? " — " + job.error : "")
      : "Indexing " + (job.current || "…") + " (" + job.done + "/" + job.total + ")";
    await loadDocuments().catch((e) => showError(e.message));
    if (job.status === "queued" || job.status === "running") state.jobTimer = setTimeout(tick, 400);
  };
  tick();
}

async function loadCollections() {
  const data = await api("/v1/collections");
  const select = $("collection");
  select.replaceChildren();
  for (const c of data.collections) {
    const opt = el("option", c.name + " (" + c.documents + ")", {value: c.name});
    if (c.name === state.collection) opt.selected = true;
    select.append(opt);
  }
}

function busy(button, on) { button.disabled = on; }

window.addEventListener("DOMContentLoaded", () => {
  $("ask-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const q = $("question").value.trim();
    if (!q) return;
    busy($("ask-button"), true);
    try { await ask(q); } catch (e) { showError(e.message); $("answer-box").hidden = true; }
    finally { busy($("ask-button"), false); }
  });
  $("upload-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const files = $("files").files;
    if (!files.length) { showError("Choose one or more files first."); return; }
    showError("");
    try { await upload(files); $("files").value = ""; } catch (e) { showError(e.message); }
  });
  $("collection").addEventListener("change", (ev) => {
    state.collection = ev.target.value;
    loadDocuments().catch((e) => showError(e.message));
  });
  $("key-button").addEventListener("click", () => { $("key-panel").hidden = !$("key-panel").hidden; });
  $("key-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    localStorage.setItem("grail-api-key", $("key-input").value.trim());
    $("key-panel").hidden = true;
    showError("");
    start();
  });
  start();
});

function start() {
  loadCollections().then(loadDocuments).catch((e) => showError(e.message));
}
