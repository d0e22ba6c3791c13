// echo_node.js: the echo suite's Node peer: a net server writing each chunk back, pausing while the socket drains.
//
// Usage: node echo_node.js PORT. Listens on 127.0.0.1 until killed; prints "listening on ..." once ready.
'use strict';
const net = require('net');

const port = parseInt(process.argv[2], 10);
if (!(port > 0)) {
  console.error('usage: node echo_node.js PORT');
  process.exit(2);
}
const server = net.createServer((sock) => {
  sock.setNoDelay(true);
  sock.on('data', (data) => {
    if (!sock.write(data)) sock.pause();
  });
  sock.on('drain', () => sock.resume());
  sock.on('error', () => {});
});
server.listen({ host: '127.0.0.1', port, backlog: 4096 }, () => {
  console.log(`listening on 127.0.0.1:${port}`);
});
