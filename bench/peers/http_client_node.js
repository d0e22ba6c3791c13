// http_client_node.js: the http-client suite's Node peer: Node 20's global fetch (undici) with C async loops each
// doing fetch + read the body, as the cio client's tasks do. fetch's pool cannot be sized without undici's own
// Agent, which Node 20 does not expose as a module; its default global Agent puts no cap on connections per
// origin and keeps them alive, so C requests at once hold at most C connections, each reused.
//
// Usage: node http_client_node.js URL N [C] [--cafile FILE] [-o FILE]. N requests in all, C (default 100) at once.
// Bodies are read and dropped, or with -o written to FILE (truncated for each response: meant for N = 1).
// --cafile: fetch takes no CA option, so the suite passes the CA as NODE_EXTRA_CA_CERTS (read at start-up); the
// flag is accepted and checked to be that. Prints the same "metric=NAME value=X" lines as
// bench/http_client/cio_http_client.c: requests, errors, bytes, wall_s, req_per_s, mib_per_s, cpu_us_per_req
// (process.cpuUsage over the requests). Exit status 1 if a request failed.
'use strict';
const fs = require('fs');

function usage() {
    console.error('usage: node http_client_node.js URL N [C] [--cafile FILE] [-o FILE]');
    process.exit(2);
}

const pos = [];
let cafile = null, out = null;
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
    if (args[i] === '--cafile' || args[i] === '-o') {
        if (i + 1 >= args.length) usage();
        if (args[i] === '-o') out = args[i + 1]; else cafile = args[i + 1];
        i++;
    } else {
        pos.push(args[i]);
    }
}
if (pos.length < 2 || pos.length > 3) usage();
const url = pos[0], n = parseInt(pos[1], 10), conc = Math.min(pos.length === 3 ? parseInt(pos[2], 10) : 100, n);
if (!(n > 0) || !(conc > 0)) usage();
if (cafile && process.env.NODE_EXTRA_CA_CERTS !== cafile) {
    console.error('http_client_node.js: run with NODE_EXTRA_CA_CERTS=' + cafile);
    process.exit(2);
}

let next = 0, errors = 0, bytes = 0, first = null;
function fail(e) {
    errors++;
    if (first === null) first = e;
}

async function worker() {
    while (next < n) {
        next++;
        try {
            const resp = await fetch(url);
            const fd = out ? fs.openSync(out, 'w') : -1;
            try {
                for await (const chunk of resp.body) {
                    bytes += chunk.length;
                    if (fd >= 0) fs.writeSync(fd, chunk);
                }
            } finally {
                if (fd >= 0) fs.closeSync(fd);
            }
            if (resp.status !== 200) fail('status ' + resp.status);
        } catch (e) {
            fail(e.cause ? `${e} (${e.cause})` : String(e));
        }
    }
}

async function main() {
    const t0 = process.hrtime.bigint(), c0 = process.cpuUsage();
    await Promise.all(Array.from({length: conc}, worker));
    const wall = Number(process.hrtime.bigint() - t0) / 1e9, c = process.cpuUsage(c0);
    const cpu = c.user + c.system;
    process.stdout.write(`metric=requests value=${n}\nmetric=errors value=${errors}\nmetric=bytes value=${bytes}\n` +
        `metric=wall_s value=${wall.toFixed(6)}\nmetric=req_per_s value=${(n / wall).toFixed(3)}\n` +
        `metric=mib_per_s value=${(bytes / 1048576 / wall).toFixed(3)}\n` +
        `metric=cpu_us_per_req value=${(cpu / n).toFixed(3)}\n`);
    if (first !== null) {
        console.error(`http_client_node.js: ${errors} of ${n} failed, the first: ${first}`);
        process.exit(1);
    }
}

main();
