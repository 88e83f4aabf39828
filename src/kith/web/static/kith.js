// Kith's one script: the live stream, and the small things htmx does not do
// (applying events to the page, seen receipts, activity, @mention suggestions).
// No build step, no dependencies beyond the vendored htmx. See docs/web.md.

const body = document.body;
const me = Number(body.dataset.me || 0);
const csrf = body.dataset.csrf || "";
const STREAM_TYPES = [
  "post.created", "post.edited", "post.deleted", "reaction.added", "reaction.removed",
  "topic.created", "topic.updated", "read.updated", "receipts.added", "presence.changed",
  "member.added", "member.removed", "space.updated",
];

// ---------------------------------------------------------------- helpers

function post(url, data) {
  return fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify(data || {}),
  });
}

async function fragment(url, target) {
  const headers = { "HX-Request": "true" };
  if (target) headers["HX-Target"] = target;
  const response = await fetch(url, { credentials: "same-origin", headers });
  if (response.redirected && new URL(response.url).pathname === "/signin") {
    window.location.assign("/signin");
    return null;
  }
  return response.ok ? response.text() : null;
}

function parse(html) {
  const template = document.createElement("template");
  template.innerHTML = html.trim();
  return template.content.firstElementChild;
}

function debounce(fn, ms) {
  let timer = 0;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

// ---------------------------------------------------------------- posts

const postsList = document.getElementById("posts");
const topicEl = document.getElementById("topic");
const topicId = topicEl ? Number(topicEl.dataset.topicId) : 0;
const cardRequests = new Map(); // post id -> sequence of the newest request

// Put a rendered post in its place: replace it if it is there, else insert it in id order.
function upsertPost(html, fresh) {
  const node = parse(html);
  if (!node || !postsList || !node.id) return;
  const existing = document.getElementById(node.id);
  const focused = existing && existing.contains(document.activeElement) ? document.activeElement.id : "";
  if (existing) {
    existing.replaceWith(node);
  } else {
    if (postsList.dataset.more) return; // only the first page is shown; new posts come later
    const id = Number(node.dataset.postId);
    const later = [...postsList.children].find((li) => Number(li.dataset.postId) > id);
    postsList.insertBefore(node, later || null);
    if (fresh) node.classList.add("is-new");
  }
  if (window.htmx) window.htmx.process(node);
  if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
  observeSeen(node);
}

async function refreshPost(postId, fresh) {
  const seq = (cardRequests.get(postId) || 0) + 1;
  cardRequests.set(postId, seq);
  const html = await fragment(`/posts/${postId}/card`);
  if (html && cardRequests.get(postId) === seq) upsertPost(html, fresh);
}

// A topic's state is classes on #topic and on its posts; CSS shows the right badges and buttons.
function applyTopic(topic) {
  if (!topicEl || topic.id !== topicId) return;
  const active = document.activeElement;
  const acceptForm = active && active.closest(".accept");
  topicEl.classList.toggle("is-resolved", Boolean(topic.resolved));
  topicEl.classList.toggle("is-question", Boolean(topic.is_question));
  topicEl.dataset.acceptedPostId = topic.accepted_post_id || "";
  for (const li of postsList ? postsList.children : []) {
    li.classList.toggle("is-accepted", Number(li.dataset.postId) === topic.accepted_post_id);
  }
  // The button that was pressed is hidden now: keep the focus on its counterpart.
  if (acceptForm) {
    const visible = [...acceptForm.querySelectorAll("button")].find((b) => b.offsetParent !== null);
    if (visible) visible.focus();
  } else if (active && active.closest(".actions") && active.offsetParent === null) {
    const visible = [...active.closest(".actions").querySelectorAll("button")].find((b) => b.offsetParent !== null);
    if (visible) visible.focus();
  }
}

// ---------------------------------------------------------------- other pages

const topicsBox = () => document.getElementById("topics");
const refreshTopics = debounce(async () => {
  const box = topicsBox();
  if (!box) return;
  const html = await fragment(box.dataset.filterUrl, "topics");
  const node = html && parse(html);
  if (node && topicsBox()) topicsBox().replaceWith(node);
}, 250);

function setUnread(spaceId, count) {
  const badge = document.querySelector(`[data-unread-space="${spaceId}"]`);
  if (!badge) return;
  badge.firstChild.textContent = String(count);
  badge.classList.toggle("is-zero", count === 0);
}

function bumpUnread(spaceId) {
  const badge = document.querySelector(`[data-unread-space="${spaceId}"]`);
  if (badge) setUnread(spaceId, Number(badge.firstChild.textContent || 0) + 1);
}

function applyPresence(people) {
  for (const person of people) {
    for (const el of document.querySelectorAll(`[data-presence-person="${person.person_id}"]`)) {
      el.className = `presence presence-${person.status}`;
      el.dataset.status = person.status;
      el.querySelector(".presence-text").textContent = person.status;
    }
  }
}

function applySeen(items) {
  for (const item of items) {
    const el = document.querySelector(`[data-seen-post="${item.post_id}"]`);
    if (el) el.textContent = String(item.seen_count);
  }
}

// ---------------------------------------------------------------- applying events

function apply(event) {
  const p = event.payload || {};
  switch (event.type) {
    case "post.created":
      if (p.topic_id === topicId) refreshPost(p.id, true);
      if (topicsBox() && Number(topicsBox().dataset.spaceTopics) === p.space_id) refreshTopics();
      if (p.author_id !== me) bumpUnread(p.space_id);
      break;
    case "post.edited":
    case "post.deleted":
      if (document.getElementById(`post-${p.id}`)) refreshPost(p.id, false);
      if (event.type === "post.deleted" && topicsBox()) refreshTopics();
      break;
    case "reaction.added":
    case "reaction.removed":
      if (document.getElementById(`post-${p.post_id}`)) refreshPost(p.post_id, false);
      break;
    case "topic.created":
    case "topic.updated":
      applyTopic(p);
      if (topicsBox() && Number(topicsBox().dataset.spaceTopics) === p.space_id) refreshTopics();
      break;
    case "read.updated":
      setUnread(p.space_id, p.unread_count);
      break;
    case "receipts.added":
      applySeen(p.seen || []);
      break;
    case "presence.changed":
      applyPresence(p.people || []);
      break;
    default:
      break;
  }
}

// ---------------------------------------------------------------- the stream

const status = document.getElementById("live-status");
let lastId = Number(body.dataset.lastEventId || 0);
let source = null;
let retryMs = 1000;

function setStatus(state, text) {
  if (!status || status.dataset.state === state) return;
  status.dataset.state = state;
  status.textContent = text;
}

function connect() {
  if (!body.dataset.live) return;
  source = new EventSource(`${body.dataset.live}?since=${lastId}`);
  const onEvent = (message) => {
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      return;
    }
    if (typeof event.id !== "number" || event.id <= lastId) return; // seen already
    lastId = event.id;
    try {
      apply(event);
    } catch (error) {
      console.warn("kith: could not apply event", event.type, error);
    }
  };
  for (const type of STREAM_TYPES) source.addEventListener(type, onEvent);
  source.addEventListener("open", () => {
    retryMs = 1000;
    setStatus("live", "Live");
  });
  source.addEventListener("signed_out", () => {
    source.close();
    window.location.assign("/signin");
  });
  source.addEventListener("role_changed", () => {
    source.close();
    window.location.reload();
  });
  source.addEventListener("lagging", () => reconnect(0));
  source.addEventListener("error", () => {
    setStatus("reconnecting", "Reconnecting…");
    // EventSource retries by itself after a dropped connection; it gives up on an HTTP
    // error, and then we start again, resuming from the last event we applied.
    if (source.readyState === EventSource.CLOSED) reconnect(retryMs);
  });
}

function reconnect(delay) {
  if (source) source.close();
  setTimeout(connect, delay);
  retryMs = Math.min(retryMs * 2, 30000);
}

// ---------------------------------------------------------------- seen receipts and activity

const reported = new Set();
const pendingSeen = new Set();
const seenObserver =
  "IntersectionObserver" in window
    ? new IntersectionObserver(
        (entries) => {
          for (const entry of entries) {
            if (!entry.isIntersecting) continue;
            const id = Number(entry.target.dataset.postId);
            if (!reported.has(id)) pendingSeen.add(id);
            seenObserver.unobserve(entry.target);
          }
        },
        { threshold: 0.5 },
      )
    : null;

function observeSeen(li) {
  if (!seenObserver || !me || !body.dataset.live) return;
  if (Number(li.dataset.authorId) === me || li.classList.contains("is-deleted")) return;
  if (!reported.has(Number(li.dataset.postId))) seenObserver.observe(li);
}

setInterval(() => {
  if (!pendingSeen.size || document.visibilityState !== "visible") return;
  const ids = [...pendingSeen].slice(0, 500);
  for (const id of ids) {
    pendingSeen.delete(id);
    reported.add(id);
  }
  post("/live/seen", { post_ids: ids }).catch(() => ids.forEach((id) => pendingSeen.add(id)));
}, 1000);

let lastActive = Date.now();
function active() {
  if (!body.dataset.live || Date.now() - lastActive < 60000) return;
  lastActive = Date.now();
  post("/live/active").catch(() => {});
}
for (const name of ["keydown", "pointerdown", "focus"]) window.addEventListener(name, active, { passive: true });
window.addEventListener("scroll", active, { passive: true });

// ---------------------------------------------------------------- htmx glue

document.addEventListener("htmx:afterRequest", (e) => {
  const form = e.detail.elt;
  if (!(form instanceof HTMLFormElement) || !e.detail.successful) return;
  if (form.dataset.upsert && e.detail.xhr.status === 200) {
    upsertPost(e.detail.xhr.responseText, true);
    form.reset();
    for (const box of form.querySelectorAll(".preview, [data-form-error]")) box.replaceChildren();
    const text = form.querySelector("textarea");
    if (text) text.focus();
  }
});

// Show an error next to the form that caused it (the server sends an escaped message).
document.addEventListener("htmx:beforeSwap", (e) => {
  const xhr = e.detail.xhr;
  if (xhr.status < 400) return;
  const elt = e.detail.requestConfig ? e.detail.requestConfig.elt : e.detail.elt;
  const scope = elt && (elt.closest("form") || elt).closest(".composer-form, .post, form");
  const box = (scope && scope.querySelector("[data-form-error]")) || document.getElementById("flash");
  if (box) box.innerHTML = xhr.responseText;
  e.detail.shouldSwap = false;
  e.detail.isError = false;
});

document.addEventListener("htmx:beforeRequest", (e) => {
  const form = e.detail.elt.closest ? e.detail.elt.closest("form") : null;
  const box = form && form.querySelector("[data-form-error]");
  if (box) box.replaceChildren();
  const flash = document.getElementById("flash");
  if (flash) flash.replaceChildren();
});

body.addEventListener("kith:topic", (e) => applyTopic(e.detail));
body.addEventListener("kith:read", (e) => setUnread(e.detail.space_id, e.detail.unread_count));

// Ctrl+Enter (or Cmd+Enter) sends the composer's form.
document.addEventListener("keydown", (e) => {
  if (e.key !== "Enter" || !(e.ctrlKey || e.metaKey)) return;
  const text = e.target.closest && e.target.closest("[data-composer] textarea");
  if (text && text.form) {
    e.preventDefault();
    text.form.requestSubmit();
  }
});

// ---------------------------------------------------------------- @mention suggestions

const MENTION = /(^|[^\w.@/])@([A-Za-z0-9._-]{1,40})$/;

function setupMentions(textarea) {
  const list = document.getElementById(textarea.getAttribute("aria-controls"));
  if (!list) return;
  let items = [];
  let index = -1;
  let start = -1;

  const close = () => {
    list.hidden = true;
    list.replaceChildren();
    items = [];
    index = -1;
    textarea.removeAttribute("aria-activedescendant");
  };
  const highlight = (next) => {
    index = (next + items.length) % items.length;
    [...list.children].forEach((li, i) => li.setAttribute("aria-selected", String(i === index)));
    textarea.setAttribute("aria-activedescendant", list.children[index].id);
  };
  const choose = (i) => {
    const person = items[i];
    if (!person || start < 0) return;
    const caret = textarea.selectionStart;
    const before = textarea.value.slice(0, start);
    const after = textarea.value.slice(caret);
    const inserted = `@${person.handle} `;
    textarea.value = before + inserted + after;
    const at = before.length + inserted.length;
    textarea.setSelectionRange(at, at);
    close();
    textarea.focus();
  };
  const lookup = debounce(async (query) => {
    const response = await fetch(`${textarea.dataset.mentions}?q=${encodeURIComponent(query)}`, {
      credentials: "same-origin",
    });
    if (!response.ok) return close();
    items = await response.json();
    if (!items.length) return close();
    list.replaceChildren(
      ...items.map((person, i) => {
        const li = document.createElement("li");
        li.id = `${list.id}-${i}`;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.textContent = person.name;
        const handle = document.createElement("span");
        handle.className = "sub";
        handle.textContent = `@${person.handle}`;
        li.append(handle);
        li.addEventListener("mousedown", (event) => {
          event.preventDefault();
          choose(i);
        });
        return li;
      }),
    );
    list.hidden = false;
    highlight(0);
  }, 150);

  textarea.addEventListener("input", () => {
    const text = textarea.value.slice(0, textarea.selectionStart);
    const match = MENTION.exec(text);
    if (!match) return close();
    start = text.length - match[2].length - 1;
    lookup(match[2]);
  });
  textarea.addEventListener("keydown", (e) => {
    if (list.hidden || !items.length) return;
    if (e.key === "ArrowDown") highlight(index + 1);
    else if (e.key === "ArrowUp") highlight(index - 1);
    else if (e.key === "Enter" || e.key === "Tab") {
      if (e.ctrlKey || e.metaKey) return;
      choose(index);
    } else if (e.key === "Escape") close();
    else return;
    e.preventDefault();
    e.stopPropagation();
  });
  textarea.addEventListener("blur", () => setTimeout(close, 100));
}

// ---------------------------------------------------------------- the map's colour toggle

// Department or office: the server drew both colourings as classes; switching is a class on
// the scope (no request). Without JavaScript the form's Apply button asks the server.
for (const form of document.querySelectorAll("[data-colour-toggle]")) {
  form.addEventListener("change", (e) => {
    const scope = form.closest("[data-colour-scope]");
    if (!scope || e.target.name !== "colour") return;
    scope.classList.remove("colour-department", "colour-office");
    scope.classList.add(`colour-${e.target.value}`);
    const url = new URL(window.location.href);
    url.searchParams.set("colour", e.target.value);
    window.history.replaceState(null, "", url);
  });
}

// ---------------------------------------------------------------- start

for (const textarea of document.querySelectorAll("textarea[data-mentions]")) setupMentions(textarea);
if (postsList) for (const li of postsList.children) observeSeen(li);
connect();
