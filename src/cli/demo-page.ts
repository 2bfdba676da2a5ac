/**
 * The browser page of `hawser demo`, served at "/": plain HTML and JavaScript, no build step.
 * Left, an echo console on "/echo"; right, a chat room on "/chat?name=N". Text from the
 * network is shown with textContent, never parsed as HTML.
 */
export const DEMO_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hawser demo</title>
<style>
  * { box-sizing: border-box; }
  body { font: 15px/1.4 system-ui, sans-serif; margin: 0; background: #f4f6f8; color: #1d2733; }
  header { padding: 10px 16px; background: #1f3a5f; color: #fff; display: flex; gap: 12px; align-items: baseline; }
  header small { opacity: 0.8; }
  main { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 16px; padding: 16px; }
  section { background: #fff; border: 1px solid #d5dbe1; border-radius: 6px; display: flex; flex-direction: column; height: 420px; }
  h2 { font-size: 16px; margin: 0; padding: 8px 12px; border-bottom: 1px solid #e3e7eb; display: flex; gap: 8px; align-items: center; }
  h2 .state { margin-left: auto; font-size: 12px; font-weight: normal; color: #666; }
  h2 .state.open { color: #1f6f3f; }
  ol { flex: 1; overflow-y: auto; margin: 0; padding: 8px 12px; list-style: none; font-family: ui-monospace, monospace; font-size: 13px; }
  li { white-space: pre-wrap; overflow-wrap: anywhere; margin: 2px 0; }
  li.sent { color: #555; }
  li.note { color: #888; font-style: italic; }
  li .from { font-weight: 600; margin-right: 0.4em; }
  form { display: flex; gap: 8px; padding: 8px 12px; border-top: 1px solid #e3e7eb; }
  form input[type=text] { flex: 1; min-width: 0; font: inherit; padding: 6px; }
  form input#chat-name { flex: 0 0 6em; }
</style>
</head>
<body>
<header><strong>hawser demo</strong><small>WebSockets served by hawser: an echo and a chat room</small></header>
<main>
  <section id="echo">
    <h2>Echo console <span class="state" id="echo-state">connecting…</span></h2>
    <ol id="echo-log"></ol>
    <form id="echo-form"><input type="text" id="echo-text" autocomplete="off" placeholder="Type a message to echo"><button>send</button></form>
  </section>
  <section id="chat">
    <h2>Chat room <span class="state" id="chat-state">connecting…</span></h2>
    <ol id="chat-log"></ol>
    <form id="chat-form"><input type="text" id="chat-name" placeholder="name"><input type="text" id="chat-text" autocomplete="off" placeholder="Say something to the room"><button>send</button></form>
  </section>
</main>
<script>
"use strict";
const base = (location.protocol === "https:" ? "wss://" : "ws://") + location.host;

function add(list, text, className, from) {
  const item = document.createElement("li");
  if (className) item.className = className;
  if (from) {
    const who = document.createElement("span");
    who.className = "from";
    who.textContent = from;
    item.append(who);
  }
  item.append(document.createTextNode(text));
  list.append(item);
  list.scrollTop = list.scrollHeight;
}

/** A socket that reconnects after a drop, reporting its state in the panel's header. */
function open(path, stateId, onMessage, onOpen) {
  const state = document.getElementById(stateId);
  let socket = null;
  let retryMs = 500;
  function connect() {
    socket = new WebSocket(base + path());
    state.textContent = "connecting…";
    state.className = "state";
    socket.onopen = () => { retryMs = 500; state.textContent = "open"; state.className = "state open"; if (onOpen) onOpen(); };
    socket.onmessage = (event) => onMessage(event.data);
    socket.onclose = (event) => {
      state.textContent = "closed (" + event.code + "), retrying";
      state.className = "state";
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 8000);
    };
  }
  connect();
  return { send(text) { if (socket && socket.readyState === WebSocket.OPEN) { socket.send(text); return true; } return false; }, reconnect() { if (socket) socket.close(); } };
}

const echoLog = document.getElementById("echo-log");
const echo = open(() => "/echo", "echo-state", (data) => add(echoLog, String(data), "echoed", "echo:"));
document.getElementById("echo-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = document.getElementById("echo-text");
  if (input.value === "") return;
  if (echo.send(input.value)) add(echoLog, input.value, "sent", "sent:");
  input.value = "";
});

const params = new URLSearchParams(location.search);
const nameInput = document.getElementById("chat-name");
nameInput.value = params.get("name") || "guest-" + Math.random().toString(16).slice(2, 6);
const chatLog = document.getElementById("chat-log");
const chat = open(() => "/chat?name=" + encodeURIComponent(nameInput.value), "chat-state", (data) => {
  let message;
  try { message = JSON.parse(data); } catch { return; }
  if (message.from === "*") add(chatLog, message.text, "note");
  else add(chatLog, message.text, "said", message.from + ":");
});
nameInput.addEventListener("change", () => chat.reconnect());
document.getElementById("chat-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = document.getElementById("chat-text");
  if (input.value !== "" && chat.send(input.value)) input.value = "";
});
</script>
</body>
</html>
`;
