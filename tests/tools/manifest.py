#!/usr/bin/env python3
"""What texporter's Kubernetes manifests ask for, as the tests need it.

  manifest.py FILE CONTAINER caps        CAP_A,CAP_B,... (added, with CAP_)
  manifest.py FILE CONTAINER command     one argument per line
  manifest.py FILE CONTAINER user        UID:GID
  manifest.py FILE CONTAINER groups      supplementary GIDs, comma-separated
  manifest.py FILE CONTAINER seccomp     the Localhost profile's file name

FILE holds one workload (DaemonSet or Job); CONTAINER is the name of one
of its containers or init containers.
"""
import sys

import yaml


def pod_spec(doc):
    return doc["spec"]["template"]["spec"]


def container(spec, name):
    for c in spec.get("initContainers", []) + spec.get("containers", []):
        if c["name"] == name:
            return c
    sys.exit(f"manifest.py: no container {name}")


def main(path, name, what):
    with open(path, encoding="utf-8") as f:
        spec = pod_spec(yaml.safe_load(f))
    c = container(spec, name)
    sc = c.get("securityContext", {})
    if what == "caps":
        print(",".join("CAP_" + cap for cap in sc["capabilities"].get("add", [])))
    elif what == "command":
        print("\n".join(c["command"] + c.get("args", [])))
    elif what == "user":
        print(f"{sc['runAsUser']}:{sc['runAsGroup']}")
    elif what == "groups":
        print(",".join(str(g) for g in spec.get("securityContext", {}).get("supplementalGroups", [])))
    elif what == "seccomp":
        print(sc["seccompProfile"]["localhostProfile"].rsplit("/", 1)[-1])
    else:
        sys.exit(f"manifest.py: unknown field {what}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
