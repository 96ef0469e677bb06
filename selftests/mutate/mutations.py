#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The mutation list of `make mutate` (selftests/mutate/mutations): parse,
check and apply it. mutate.sh calls this; README.md describes the format.

  mutations.py check LIST SRC         every mutant is well-formed and its
                                      original occurs exactly once in SRC
  mutations.py table LIST [ID...]     one line per mutant, tab-separated:
                                      id file tests steps what survives
                                      (tests only with step kselftests;
                                      "-" for an empty field)
  mutations.py union LIST [ID...]     two lines: the tests and the steps
                                      that cover every mutant named
  mutations.py apply LIST ID DIR      apply mutant ID to DIR/<its file>

Tests are checked against selftests/aiodev/*.c (NAME_m32 is NAME built
for i386), steps against the step_NAME functions of
selftests/vm/guest-check.sh. Errors go to stderr, status 1.
"""
import os
import re
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                     "..", ".."))
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
KEYS = ("file", "what", "tests", "steps", "survives")


class ListError(Exception):
    pass


class Mutant:
    def __init__(self, ident, line):
        self.id = ident
        self.line = line        # where its block starts, for messages
        self.fields = {}
        self.old = []           # lines " " and "-"
        self.new = []           # lines " " and "+"
        self.changed = False    # any "-" or "+" line at all


def parse(path):
    """Returns (defaults, [Mutant]) in file order."""
    defaults = {}
    mutants = []
    cur = None
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for n, raw in enumerate(lines, 1):
        where = f"{path}:{n}"
        if raw[:1] in ("-", "+", " ") and raw.strip() != "":
            if cur is None or cur is defaults:
                raise ListError(f"{where}: code line outside a mutant")
            text = raw[1:]
            if raw[0] in " -":
                cur.old.append(text)
            if raw[0] in " +":
                cur.new.append(text)
            cur.changed |= raw[0] != " "
            continue
        if raw.strip() == "" or raw.startswith("#"):
            continue
        m = re.match(r"^\[([^]]*)\]\s*$", raw)
        if m:
            name = m.group(1)
            if name == "defaults":
                if mutants or defaults:
                    raise ListError(f"{where}: [defaults] must come first, once")
                cur = defaults
                continue
            if not ID_RE.match(name):
                raise ListError(f"{where}: bad id '{name}' (a-z, 0-9, -)")
            if any(x.id == name for x in mutants):
                raise ListError(f"{where}: duplicate id '{name}'")
            cur = Mutant(name, n)
            mutants.append(cur)
            continue
        m = re.match(r"^([a-z]+):\s*(.*?)\s*$", raw)
        if not m:
            raise ListError(f"{where}: neither a field, a code line nor a comment")
        key, val = m.groups()
        if cur is None:
            raise ListError(f"{where}: field outside a block")
        if cur is defaults:
            if key not in ("tests", "steps"):
                raise ListError(f"{where}: [defaults] has only tests: and steps:")
            defaults[key] = val
            continue
        if key not in KEYS:
            raise ListError(f"{where}: unknown field '{key}' (known: {', '.join(KEYS)})")
        if key in cur.fields:
            raise ListError(f"{where}: '{key}' given twice")
        cur.fields[key] = val
    for mu in mutants:
        for key in ("tests", "steps"):
            mu.fields.setdefault(key, defaults.get(key, ""))
    return defaults, mutants


def known_tests():
    """Test programs: aiodev/NAME.c, or aiodev/NAME/ of several .c files."""
    d = os.path.join(ROOT, "selftests", "aiodev")
    names = set()
    for f in os.listdir(d):
        p = os.path.join(d, f)
        if f.endswith(".c"):
            names.add(f[:-2])
        elif os.path.isdir(p) and any(c.endswith(".c") for c in os.listdir(p)):
            names.add(f)
    return names


def guest_steps():
    """The step names guest-check.sh defines, in its default order."""
    with open(os.path.join(ROOT, "selftests", "vm", "guest-check.sh"),
              encoding="utf-8") as f:
        text = f.read()
    defined = re.findall(r"^step_([a-z0-9_]+)\(\)", text, re.M)
    m = re.search(r"AIODEV_STEPS:-([a-z0-9_ ]+)\}", text)
    order = m.group(1).split() if m else []
    return order + [s for s in defined if s not in order], set(defined)


def find(lines, old):
    """Indices where the lines @old start in @lines."""
    k = len(old)
    return [i for i in range(len(lines) - k + 1) if lines[i:i + k] == old]


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return text.split("\n")


def squash(s):
    return " ".join(s.split())


def locate(mu, src):
    """The one line index where @mu's original starts in its file in @src."""
    path = os.path.join(src, mu.fields["file"])
    try:
        lines = read_lines(path)
    except OSError as e:
        raise ListError(f"[{mu.id}]: {e.strerror}: {path}") from None
    hits = find(lines, mu.old)
    if len(hits) == 1:
        return lines, hits[0]
    msg = f"[{mu.id}] (line {mu.line}): its original occurs {len(hits)} times in {mu.fields['file']}"
    if hits:
        msg += " (at lines " + ", ".join(str(i + 1) for i in hits) + "): add context lines"
    else:
        # The usual cause is the code moving on; whitespace the second.
        loose = find([squash(x) for x in lines], [squash(x) for x in mu.old])
        if loose:
            msg += f"; with whitespace ignored at line {loose[0] + 1}: tabs?"
        else:
            msg += ": the code changed, update the mutant"
    raise ListError(msg)


def check(mutants, src):
    errors = []
    tests = known_tests()
    _, steps = guest_steps()
    for mu in mutants:
        try:
            for key in ("file", "what"):
                if not mu.fields.get(key):
                    raise ListError(f"[{mu.id}] (line {mu.line}): no {key}:")
            if not mu.changed or mu.old == mu.new:
                raise ListError(f"[{mu.id}] (line {mu.line}): changes nothing")
            if not mu.old:
                raise ListError(f"[{mu.id}] (line {mu.line}): no original (lines ' ' or '-')")
            st = mu.fields["steps"].split()
            if not st:
                raise ListError(f"[{mu.id}] (line {mu.line}): no steps")
            bad = [s for s in st if s not in steps]
            if bad:
                raise ListError(f"[{mu.id}] (line {mu.line}): unknown steps {' '.join(bad)} (guest-check.sh has {' '.join(sorted(steps))})")
            te = mu.fields["tests"].split()
            if "kselftests" in st and not te:
                raise ListError(f"[{mu.id}] (line {mu.line}): step kselftests without tests")
            bad = [t for t in te if re.sub(r"_m32$", "", t) not in tests]
            if bad:
                raise ListError(f"[{mu.id}] (line {mu.line}): unknown tests {' '.join(bad)} (not in selftests/aiodev/)")
            locate(mu, src)
        except ListError as e:
            errors.append(str(e))
    return errors


def select(mutants, ids):
    if not ids:
        return mutants
    by_id = {mu.id: mu for mu in mutants}
    unknown = [i for i in ids if i not in by_id]
    if unknown:
        raise ListError("unknown mutants: " + " ".join(unknown))
    return [by_id[i] for i in dict.fromkeys(ids)]


def apply(mu, dest):
    lines, at = locate(mu, dest)
    lines[at:at + len(mu.old)] = mu.new
    with open(os.path.join(dest, mu.fields["file"]), "w", encoding="utf-8") as f:
        f.write("\n".join(lines))


def main(argv):
    if len(argv) < 3 or argv[1] not in ("check", "table", "union", "apply"):
        sys.stderr.write(__doc__)
        return 2
    cmd, path, rest = argv[1], argv[2], argv[3:]
    try:
        _, mutants = parse(path)
        if cmd == "check":
            if len(rest) != 1:
                raise ListError("usage: check LIST SRC")
            errors = check(mutants, rest[0])
            for e in errors:
                print(e, file=sys.stderr)
            return 1 if errors else 0
        if cmd == "table":
            for mu in select(mutants, rest):
                f = mu.fields
                steps = f["steps"].split()
                tests = f["tests"].split() if "kselftests" in steps else []
                print("\t".join([mu.id, f["file"], " ".join(tests) or "-",
                                 " ".join(steps), f["what"],
                                 f.get("survives") or "-"]))
            return 0
        if cmd == "union":
            chosen = select(mutants, rest)
            order, _ = guest_steps()
            tests, steps = [], set()
            for mu in chosen:
                st = mu.fields["steps"].split()
                steps.update(st)
                if "kselftests" in st:
                    tests += [t for t in mu.fields["tests"].split() if t not in tests]
            print(" ".join(sorted(tests)))
            print(" ".join(s for s in order if s in steps))
            return 0
        if len(rest) != 2:
            raise ListError("usage: apply LIST ID DIR")
        apply(select(mutants, [rest[0]])[0], rest[1])
        return 0
    except ListError as e:
        print(f"{path}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
