// The baseline for bench/live: a minimal Node `ws` broadcast server.
// Compression off; each published message is framed ONCE (WebSocket.Sender.frame) and the same
// bytes are written to every client socket. A client connecting with ?publisher=1 publishes:
// every message it sends is broadcast verbatim to all other clients.
//
//   node bench/live/node_ws_server.js PORT
'use strict';
const { WebSocketServer, WebSocket } = require('ws');

const port = Number(process.argv[2] || 9400);
const wss = new WebSocketServer({ port, host: '127.0.0.1', perMessageDeflate: false, backlog: 4096 });

function broadcast(data, from) {
  const frame = Buffer.concat(
    WebSocket.Sender.frame(data, { fin: true, rsv1: false, opcode: 1, mask: false, readOnly: false })
  );
  for (const client of wss.clients) {
    if (client !== from && client.readyState === WebSocket.OPEN) client._socket.write(frame);
  }
}

wss.on('connection', (ws, req) => {
  if (req.url.includes('publisher')) ws.on('message', (data) => broadcast(data, ws));
});
wss.on('listening', () => console.log(`listening ${port}`));
process.on('SIGTERM', () => { wss.close(); process.exit(0); });
