// http_node.js: the http-server suite's Node peer: the http module answering a 13-byte plaintext body on
// keep-alive. Usage: node http_node.js PORT [DIR]. With DIR, /static/NAME streams DIR/NAME with
// fs.createReadStream (after an fs.stat for its length), as a Node static server does. Listens on 127.0.0.1 until
// killed; prints "listening on ..." once ready.
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');

const port = Number(process.argv[2]);
if (!port) {
    console.error('usage: node http_node.js PORT');
    process.exit(2);
}
const body = Buffer.from('Hello, World!');
const dir = process.argv[3];
const server = http.createServer((req, res) => {
    if (dir && req.url.startsWith('/static/')) {
        const name = path.basename(decodeURIComponent(req.url.slice(8)));
        const file = path.join(dir, name);
        fs.stat(file, (err, st) => {
            if (err || !st.isFile()) {
                res.writeHead(404, {'Content-Length': 0});
                res.end();
                return;
            }
            res.writeHead(200, {'Content-Type': 'application/octet-stream', 'Content-Length': st.size});
            fs.createReadStream(file).pipe(res);
        });
        return;
    }
    res.writeHead(200, {'Content-Type': 'text/plain', 'Content-Length': body.length});
    res.end(body);
});
// Keep idle connections as long as the other servers do (Node's default is 5 s).
server.keepAliveTimeout = 75000;
server.listen(port, '127.0.0.1', () => console.log(`listening on 127.0.0.1:${port}`));
process.on('SIGTERM', () => process.exit(0));
