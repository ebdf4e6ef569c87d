"""Task cgroups (server/task_cgroup.h) that tests leave: a sluiced stopped
with tasks running keeps their cgroups, as it keeps the tasks; once the
test has ended those tasks, it removes their cgroups with this."""
import glob
import os
import time


def _exiting(cgroup):
    """No process of <cgroup> runs any more (zombies at most, or none left
    but the removal raced with its exit)."""
    try:
        with open(os.path.join(cgroup, "cgroup.procs")) as f:
            pids = f.read().split()
    except OSError:
        return False
    for pid in pids:
        try:
            with open("/proc/%s/stat" % pid) as f:
                if f.read().rsplit(")", 1)[1].split()[0] != "Z":
                    return False
        except OSError:
            pass  # gone meanwhile
    return True


def remove_task_cgroups(paths, timeout=3.0):
    """Remove each cgroup of <paths> ("/sluice/<owner>[/<task>]"), the empty
    cgroups below it, and its parents up to /sluice while empty, in every
    hierarchy.  A cgroup whose last processes are still exiting is retried
    for up to <timeout> seconds; one still in use stays, at once."""
    deadline = time.time() + timeout
    while True:
        left = []
        for h in glob.glob("/sys/fs/cgroup/*"):
            for p in paths:
                for sub, _, _ in sorted(os.walk(h + p), key=lambda w: -len(w[0])):
                    try:
                        os.rmdir(sub)
                    except FileNotFoundError:
                        pass
                    except OSError:
                        if _exiting(sub):
                            left.append(sub)
                parent = os.path.dirname(p)
                while parent not in ("/", ""):
                    try:
                        os.rmdir(h + parent)
                    except OSError:
                        break
                    parent = os.path.dirname(parent)
        if not left or time.time() > deadline:
            return left
        time.sleep(0.05)
