#!/usr/bin/env python3
"""size_gate.py: fail when a C file of the library, the tools or the examples passes 1,000 lines, or a function
passes 80 lines, unless the function is one of the exceptions below, each with its reason and the length it had
when it was let in (growing past that fails too). Run from the top of the tree; exits 1 on a finding.

A function is a body whose opening brace starts a line at file scope, as the project's style writes them; its
length counts the lines between its braces."""
import re
import subprocess
import sys

MAX_FILE = 1000
MAX_FUNCTION = 80

# (file, function name) -> (lines it may have, why it stays whole)
EXCEPTIONS = {
    ("examples/fetch.c", "parse"): (145, "the command line: one case per curl option, read top to bottom"),
    ("tools/cio-serve.c", "main"): (115, "the command line: one case per option, then the checks in order"),
    ("tools/cio-bench.c", "main"): (175, "the command line: one case per option (wrk's and oha's), then the run"),
    ("tools/cio-get.c", "main"): (170, "the command line: one case per option (wget's and curl's), then the checks"),
    ("src/web/conn.c", "serve_one"): (
        125, "one request's life in order (head, checks, route, chain, answer, keep-alive), the server's hot path"),
    ("src/io/tls_ctx.c", "configure"): (120, "one OpenSSL setting after another, in the order the options list them"),
    ("src/http/parse.c", "parse_head"): (105, "the parser's hot loop over a head, kept whole for the compiler"),
    ("src/web/static.c", "serve_file"): (92, "RFC 9110's steps for a file in order: validators, preconditions, "
                                             "ranges (one, several, none)"),
    ("src/web/listing.c", "cio__web_listing"): (85, "read, sort and write a listing, each step a few lines"),
    ("src/client/session.c", "cio_client_session_new"): (92, "every option checked and copied in the struct's order"),
    ("src/client/jar.c", "cio__client_jar_store"): (85, "RFC 6265 section 5.3's storage steps, in its order"),
}

NAME = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def strip(line):
    line = re.sub(r'"(\\.|[^"\\])*"', '""', line)
    line = re.sub(r"'(\\.|[^'\\])*'", "''", line)
    return re.sub(r"//.*", "", line)


def functions(lines):
    depth, start, name = 0, None, None
    in_comment = False
    for i, raw in enumerate(lines):
        line = strip(raw)
        # block comments: drop their text (braces in prose must not count)
        out = ""
        j = 0
        while j < len(line):
            if in_comment:
                k = line.find("*/", j)
                if k < 0:
                    j = len(line)
                else:
                    in_comment, j = False, k + 2
            else:
                k = line.find("/*", j)
                if k < 0:
                    out += line[j:]
                    j = len(line)
                else:
                    out += line[j:k]
                    in_comment, j = True, k + 2
        line = out
        if depth == 0 and line.startswith("{") and i > 0:
            start = i
            k = i - 1
            while k > 0 and "(" not in lines[k]:
                k -= 1
            m = NAME.search(lines[k].split("(")[0] + "(")
            name = m.group(1) if m else "?"
        depth += line.count("{") - line.count("}")
        if depth == 0 and start is not None and "}" in line:
            yield name, start + 1, i - start - 1
            start = None


def main():
    files = subprocess.run(["git", "ls-files", "src", "tools", "examples"], capture_output=True, text=True,
                           check=True).stdout.split()
    bad = []
    for f in sorted(x for x in files if x.endswith(".c")):
        with open(f, encoding="utf-8") as fh:
            lines = fh.read().split("\n")
        if len(lines) > MAX_FILE:
            bad.append(f"{f}: {len(lines)} lines, over {MAX_FILE}: split it")
        for name, line, n in functions(lines):
            if n <= MAX_FUNCTION:
                continue
            allowed = EXCEPTIONS.get((f, name))
            if not allowed:
                bad.append(f"{f}:{line}: {name} is {n} lines, over {MAX_FUNCTION}: split it, or list it with a reason")
            elif n > allowed[0]:
                bad.append(f"{f}:{line}: {name} is {n} lines, over the {allowed[0]} it was let in with")
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
