#!/usr/bin/env bash
# make_fixture.sh - rebuilds crashed.tar.xz: a schema-3 data directory (LMDB
# data file synced only at a clean close, redo log, snapshot, checkpoint) as
# a sluiced killed by SIGKILL leaves it, with every write it acknowledged, for
# test_store's conversion test.  The store comes from commit 48759fc, the last
# with the redo log, built in a temporary directory; nothing here builds
# against today's store.
#
#   tests/unit/store_schema3/make_fixture.sh
#
# Two runs of writer.c (4 threads each) on one directory, each killed with
# writes in flight.  The first takes a snapshot every data file's worth of log
# and goes round both log files; the second recovers its crash, under a new
# epoch, and writes on with no snapshot after its opening one, past the
# switch to the other log file.  Then the first 64 KiB of data.mdb, meta pages included, are
# overwritten, as if none of its unsynced pages had reached the disk: only the
# snapshot and the log records after it hold the store now.  The script checks
# that commit 48759fc's own recovery finds every acknowledged write in it, and
# that the snapshot alone does not, before it packs
#   schema3/data/    the data directory
#   schema3/acked.jsonl  writer.c's "try" and "ack" lines, in order
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(git -C "$here" rev-parse --show-toplevel)
commit=48759fc
work=$(mktemp -d /tmp/sluice-schema3-XXXXXX)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/src" "$work/schema3/data"
git -C "$root" archive "$commit" | tar -x -C "$work/src"
cmake -S "$work/src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DSLUICE_TESTS=OFF >/dev/null
cmake --build "$work/build" -j"$(nproc)" --target sluice_core >/dev/null
libs=$(pkg-config --cflags --libs jansson lmdb)
for prog in writer dump; do
  # shellcheck disable=SC2086
  cc -O2 -Wall -Wextra -Werror -I "$work/src" -I "$work/build/gen" "$here/$prog.c" \
     "$work/build/libsluice_core.a" $libs -lssl -lcrypto -lpthread -o "$work/$prog"
done

data="$work/schema3/data"
for run in "1 150 1" "2 250 67108864"; do
  set -- $run
  status=0
  "$work/writer" "$data" "$1" 4 "$2" "$3" >>"$work/schema3/acked.jsonl" || status=$?
  [ "$status" -eq 137 ] || { echo "make_fixture: run $1 ended with $status, not SIGKILL" >&2; exit 1; }
done
ls "$data/wal-1.log" "$data/snapshot.mdb" "$data/checkpoint" >/dev/null
head -c 65536 /dev/zero | tr '\0' 'Z' | dd of="$data/data.mdb" conv=notrunc status=none

# What commit 48759fc's recovery makes of a copy, and of the snapshot alone.
cp -a "$data" "$work/recovered"
"$work/dump" "$work/recovered" >"$work/recovered.jsonl"
mkdir "$work/snaponly"
cp "$data/snapshot.mdb" "$work/snaponly/data.mdb"
"$work/dump" "$work/snaponly" >"$work/snaponly.jsonl"
python3 - "$work/schema3/acked.jsonl" "$work/recovered.jsonl" "$work/snaponly.jsonl" <<'EOF'
import json, sys

def expect(path):
    """Per id: the states it may be in (an in-flight write may or may not
    have landed); the lowest and highest revision allowed."""
    tries, acks = {}, {}
    for line in open(path):
        r = json.loads(line)
        (tries if r["t"] == "try" else acks)[(r["w"], r["n"])] = r
    state, maybe, top, inflight = {}, {}, 0, 0
    for key in sorted(tries, key=lambda k: (k[0], k[1])):
        t = tries[key]
        after = None if t["op"] in ("delete", "fail") else (t["v"], t["size"])
        if t["op"] == "fail":
            before = None
        else:
            before = state.get(t["id"])
        if key in acks:
            if t["op"] != "fail":
                state[t["id"]] = after
            top = max(top, acks[key]["rev"])
        else:
            maybe[t["id"]] = {before, after}
            inflight += 1
    return state, maybe, top, inflight

def got(path):
    objs, index, rev = {}, {}, None
    for line in open(path):
        r = json.loads(line)
        if "revision" in r:
            rev = r["revision"]
        elif "obj" in r:
            objs[r["obj"]] = (r["v"], r["size"])
        else:
            index[r["index"]] = r["val"]
    return objs, index, rev

def holds(path):
    state, maybe, top, inflight = expect(sys.argv[1])
    objs, index, rev = got(path)
    for i in set(state) | set(maybe) | set(objs):
        if i in maybe:
            ok = objs.get(i) in maybe[i]
        else:
            ok = objs.get(i) == state.get(i)
        if not ok:
            return "object %s: %r, acknowledged %r" % (i, objs.get(i), state.get(i))
        if (i in objs) != (index.get("name:" + i) == i):
            return "index entry of %s" % i
    if len(index) != len(objs):
        return "index entries without objects"
    if not top <= rev <= top + inflight:
        return "revision %d, acknowledged up to %d" % (rev, top)
    return None

bad = holds(sys.argv[2])
if bad:
    sys.exit("make_fixture: commit 48759fc's recovery lost a write: " + bad)
if holds(sys.argv[3]) is None:
    sys.exit("make_fixture: the snapshot alone holds every write; the log is not needed")
state, maybe, top, inflight = expect(sys.argv[1])
print("make_fixture: %d acknowledged writes up to revision %d, %d live objects, %d in flight"
      % (sum(1 for l in open(sys.argv[1]) if '"ack"' in l), top,
         sum(1 for v in state.values() if v), inflight))
EOF
tar -C "$work" -cJf "$here/crashed.tar.xz" schema3
ls -l "$here/crashed.tar.xz"
