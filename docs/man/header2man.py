#!/usr/bin/env python3
"""header2man.py - man pages (section 3) of the public calls, from the
installed headers: the comment above each function's prototype in
include/{demi,dmtr,sluice}/*.h and include/{mtcp,mos}_*.h is the one source
of its page, rendered by
scdoc(1). Used by the build (docs/man/meson.build); nothing else reads it.

  header2man.py --list HEADER...            one "HEADER FUNCTION" per line
  header2man.py --page HEADER FUNCTION --scdoc SCDOC -o OUT
"""
import argparse
import re
import subprocess
import sys

RETURN_TYPES = r"(?:int |event_t |demi_sgarray_t |ssize_t |void \*|void |mctx_t |uint32_t |mtcp_sighandler_t |char \*)"
PROTO = re.compile(r"/\*\n((?: \*[^\n]*\n)+?) \*/\n(" + RETURN_TYPES + r"(\w+)\([^;]*\);)", re.S)


def functions(path):
    """(name, comment lines, prototype) of every documented function."""
    text = open(path, encoding="utf-8").read()
    for m in PROTO.finditer(text):
        lines = [re.sub(r"^ \*( |$)", "", l) for l in m.group(1).rstrip("\n").split("\n")]
        yield m.group(3), lines, " ".join(m.group(2).split())


def esc(s):
    return re.sub(r"([\\*_`])", r"\\\1", s)


def include_of(path):
    parts = path.replace("\\", "/").split("/")
    if parts[-2] == "include":  # mTCP's headers sit at the top, as upstream
        return parts[-1]
    return "/".join(parts[-2:])


def page(path, name, lines, proto):
    text = [l.strip() for l in lines]
    first = re.split(r"\. |; |: ", " ".join(text))[0].rstrip(".")
    first = first[0].lower() + first[1:] if first else name
    out = [f'{name.upper()}(3) "Sluice" "Sluice Programmer\'s Manual"', "",
           "# NAME", "", f"{esc(name)} - {esc(first)}", "",
           "# SYNOPSIS", "", f"*#include <{include_of(path)}>*", "", esc(proto), "",
           "# DESCRIPTION", ""]
    para_breaks = ("Returns", "Errors", "Source:", "Ownership:", "When it completes", "Every pending")
    for raw, l in zip(lines, text):
        if not l:
            out.append("")
            continue
        if raw.startswith(" - ") or raw.startswith("- "):
            out.append("")
            out.append("- " + esc(l[2:]))
            continue
        if raw.startswith("   ") and out and out[-1].startswith("- "):
            out[-1] += " " + esc(l)  # continuation of a list item
            continue
        if l.startswith(para_breaks) and out[-1] != "":
            out.append("")
        if out[-1].startswith("- "):
            out.append("")
        out.append(esc(l))
    if include_of(path).startswith(("mtcp_", "mos_")):
        out += ["", "# RETURN VALUE", "",
                "As listed above: mTCP's convention, -1 (NULL for a pointer, 0 for a count) with "
                "errno set on failure.", "",
                "# SEE ALSO", "", "mtcp\\_socket(3), mtcp\\_epoll\\_wait(3), demi\\_socket(3)", "",
                "The guide installed with the sources: docs/mtcp.md.", ""]
        return "\n".join(out)
    see = {"demi": "demi\\_wait(3), demi\\_sgaalloc(3), sluice(7)",
           "dmtr": "dmtr\\_wait(3), demi\\_push(3)",
           "sluice": "demi\\_socket(3)"}[name.split("_")[0]]
    out += ["", "# RETURN VALUE", "",
            "0 (a count where the description says so) or a positive errno, as listed above; "
            "demi\\_sgaalloc returns an array and sets errno. An operation that fails after it "
            "started completes with DEMI\\_OPC\\_FAILED and qr\\_ret set to the errno.", "",
            "# SEE ALSO", "", see.replace(", sluice(7)", ""), "",
            "The guides installed with the sources: docs/queue-api.md, docs/network.md, docs/tcp.md.", ""]
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--list", nargs="+")
    ap.add_argument("--page", nargs=2, metavar=("HEADER", "FUNCTION"))
    ap.add_argument("--scdoc")
    ap.add_argument("-o")
    a = ap.parse_args()
    if a.list:
        for h in a.list:
            for name, _, _ in functions(h):
                print(h, name)
        return 0
    path, want = a.page
    for name, lines, proto in functions(path):
        if name == want:
            src = page(path, name, lines, proto)
            r = subprocess.run([a.scdoc], input=src.encode(), capture_output=True)
            if r.returncode != 0:
                sys.stderr.write(f"{name}: scdoc: {r.stderr.decode()}\n{src}\n")
                return 1
            open(a.o, "wb").write(r.stdout)
            return 0
    sys.stderr.write(f"{want}: no documented prototype in {path}\n")
    return 1


if __name__ == "__main__":
    sys.exit(main())
