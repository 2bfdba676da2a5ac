/**
 * The browser page of `hawser chat`, served at "/": plain HTML and JavaScript, no build step.
 * It talks to "/chat?room=R&name=N&since=OFFSET" and shows the room's messages as the server
 * sends them ({"from", "text", "offset", "id"}), each once, in the room's order, its own
 * included. A browser's WebSocket never reconnects (WHATWG), so the page does: after any drop
 * it waits (exponential backoff, full jitter) and connects again with `since` set to the last
 * offset it showed, so it misses nothing and shows nothing twice. What is typed meanwhile
 * waits in an outbox, shown as "sending", and goes out once the page has caught up; a message
 * sent just before a drop is sent again unless the replay shows it arrived (each carries an
 * id). Text is shown with textContent, never parsed as HTML.
 */
export const CHAT_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hawser chat</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 0; display: flex; flex-direction: column; height: 100vh; }
  header { padding: 8px 12px; background: #1f3a5f; color: #fff; display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
  header input { width: 9em; }
  #status { margin-left: auto; font-size: 13px; opacity: 0.85; }
  #log { flex: 1; overflow-y: auto; padding: 8px 12px; margin: 0; list-style: none; }
  #log li { margin: 2px 0; white-space: pre-wrap; overflow-wrap: anywhere; }
  #log .from { font-weight: 600; margin-right: 0.4em; }
  #log .mine .from { color: #1f6f3f; }
  #log .note { color: #777; font-style: italic; }
  #outbox li { color: #999; }
  #outbox { margin: 0; padding: 0 12px; list-style: none; }
  form { display: flex; gap: 8px; padding: 8px 12px; border-top: 1px solid #ccc; }
  #text { flex: 1; font: inherit; padding: 6px; }
</style>
</head>
<body>
<header>
  <strong>hawser chat</strong>
  <label>room <input id="room"></label>
  <label>name <input id="name"></label>
  <button id="join" type="button">join</button>
  <span id="status">connecting…</span>
</header>
<ul id="log"></ul>
<ul id="outbox"></ul>
<form id="send">
  <input id="text" autocomplete="off" placeholder="Say something" maxlength="8000" autofocus>
  <button>send</button>
</form>
<script>
"use strict";
const params = new URLSearchParams(location.search);
const roomInput = document.getElementById("room");
const nameInput = document.getElementById("name");
const log = document.getElementById("log");
const outboxList = document.getElementById("outbox");
const status = document.getElementById("status");
roomInput.value = params.get("room") || "lobby";
nameInput.value = params.get("name") || localStorage.getItem("hawser-chat-name") || "guest-" + Math.random().toString(16).slice(2, 6);

// The first retry waits up to this long (?retry=MS; default 500), each further one up to twice as long.
const retryBaseMs = Number(params.get("retry")) || 500;
let socket = null;
let live = false;          // caught up on the current connection: typed messages go out at once
let retries = 0;
let lastOffset = null;     // the last message shown: the next connection asks for what follows it
const shown = new Set();   // offsets shown, so a message is never shown twice
const outbox = [];         // { id, text, item, sentOn } typed and not yet seen back from the room

function item(from, text, className) {
  const li = document.createElement("li");
  if (className) li.className = className;
  if (from !== null) {
    const who = document.createElement("span");
    who.className = "from";
    who.textContent = from + ":";
    li.append(who);
  }
  li.append(document.createTextNode(text));
  return li;
}

function show(li) {
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  log.append(li);
  if (atBottom) log.scrollTop = log.scrollHeight;
}

function received(message) {
  if (shown.has(message.offset)) return;
  shown.add(message.offset);
  lastOffset = message.offset;
  const index = outbox.findIndex((pending) => pending.id === message.id);
  if (index >= 0) outbox.splice(index, 1)[0].item.remove();
  const li = item(message.from, message.text, index >= 0 ? "mine" : "");
  li.dataset.offset = message.offset;
  show(li);
}

function sendFromOutbox(pending) {
  pending.sentOn = socket;
  socket.send(JSON.stringify({ text: pending.text, id: pending.id }));
}

function connect() {
  const room = roomInput.value.trim() || "lobby";
  const name = nameInput.value.trim() || "guest";
  localStorage.setItem("hawser-chat-name", name);
  history.replaceState(null, "", "?room=" + encodeURIComponent(room));
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  let url = scheme + "//" + location.host + "/chat?room=" + encodeURIComponent(room) + "&name=" + encodeURIComponent(name);
  if (lastOffset !== null) url += "&since=" + encodeURIComponent(lastOffset);
  const ws = new WebSocket(url);
  socket = ws;
  live = false;
  status.textContent = retries === 0 ? "connecting…" : "reconnecting…";
  ws.onmessage = (event) => {
    if (socket !== ws) return;
    let message;
    try { message = JSON.parse(event.data); } catch { return; }
    if (message.caughtUp) {
      live = true;
      // Nothing shown yet: resume from where the room stood when this connection joined it.
      if (lastOffset === null && typeof message.offset === "string") lastOffset = message.offset;
      retries = 0;
      status.textContent = "in room " + room + " as " + name;
      if (message.truncated) show(item(null, "some messages from while you were away are no longer kept", "note"));
      // Whatever the replay did not show arrived is sent (again) now, in the order typed.
      for (const pending of outbox) if (pending.sentOn !== ws) sendFromOutbox(pending);
      return;
    }
    if (typeof message.offset === "string") received(message);
  };
  ws.onclose = (event) => {
    if (socket !== ws) return;
    live = false;
    // Full jitter: a random wait below a ceiling that doubles, so clients do not return together.
    const ceiling = Math.min(8000, retryBaseMs * 2 ** retries++);
    status.textContent = "disconnected (" + event.code + "), reconnecting…";
    setTimeout(() => { if (socket === ws) connect(); }, Math.random() * ceiling);
  };
}

document.getElementById("join").onclick = () => {
  const old = socket;
  socket = null;
  if (old) old.close(1000, "changing room");
  log.textContent = "";
  outboxList.textContent = "";
  outbox.length = 0;
  shown.clear();
  lastOffset = null;
  retries = 0;
  connect();
};

document.getElementById("send").onsubmit = (event) => {
  event.preventDefault();
  const input = document.getElementById("text");
  const text = input.value;
  if (text === "") return;
  const pending = { id: Math.random().toString(36).slice(2) + Date.now().toString(36), text, item: item(nameInput.value.trim() || "guest", text + " (sending…)", "mine"), sentOn: null };
  outbox.push(pending);
  outboxList.append(pending.item);
  input.value = "";
  if (live && socket && socket.readyState === WebSocket.OPEN) sendFromOutbox(pending);
};

connect();
</script>
</body>
</html>
`;
