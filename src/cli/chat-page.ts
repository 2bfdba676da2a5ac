/**
 * The browser page of `hawser chat`, served at "/": plain HTML and JavaScript, no build step.
 * It talks to "/chat?room=R&name=N": every text it sends reaches the other people in the
 * room, on any `hawser chat` process sharing the Redis, as {"from": name, "text": text}.
 * Text is shown with textContent, never parsed as HTML.
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
const status = document.getElementById("status");
roomInput.value = params.get("room") || "lobby";
nameInput.value = params.get("name") || localStorage.getItem("hawser-chat-name") || "guest-" + Math.random().toString(16).slice(2, 6);
let socket = null;
let retryMs = 500;

function show(from, text, className) {
  const item = document.createElement("li");
  if (className) item.className = className;
  if (from !== null) {
    const who = document.createElement("span");
    who.className = "from";
    who.textContent = from + ":";
    item.append(who);
  }
  item.append(document.createTextNode(text));
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  log.append(item);
  if (atBottom) log.scrollTop = log.scrollHeight;
}

function connect() {
  const room = roomInput.value.trim() || "lobby";
  const name = nameInput.value.trim() || "guest";
  localStorage.setItem("hawser-chat-name", name);
  history.replaceState(null, "", "?room=" + encodeURIComponent(room));
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const url = scheme + "//" + location.host + "/chat?room=" + encodeURIComponent(room) + "&name=" + encodeURIComponent(name);
  const ws = new WebSocket(url);
  socket = ws;
  status.textContent = "connecting…";
  ws.onopen = () => {
    retryMs = 500;
    status.textContent = "in room " + room + " as " + name;
    show(null, "joined room " + room, "note");
  };
  ws.onmessage = (event) => {
    let message;
    try { message = JSON.parse(event.data); } catch { return; }
    show(message.from, message.text);
  };
  ws.onclose = (event) => {
    if (socket !== ws) return;
    status.textContent = "disconnected (" + event.code + "), retrying…";
    setTimeout(() => { if (socket === ws) connect(); }, retryMs);
    retryMs = Math.min(retryMs * 2, 8000);
  };
}

document.getElementById("join").onclick = () => {
  const old = socket;
  socket = null;
  if (old) old.close(1000, "changing room");
  log.textContent = "";
  connect();
};

document.getElementById("send").onsubmit = (event) => {
  event.preventDefault();
  const input = document.getElementById("text");
  const text = input.value;
  if (text === "" || !socket || socket.readyState !== WebSocket.OPEN) return;
  socket.send(text);
  show(nameInput.value.trim() || "guest", text, "mine");
  input.value = "";
};

connect();
</script>
</body>
</html>
`;
