"""Writes the shell commands that create Kolla's users and groups with their fixed ids, from the
users.py of the kolla package (argv[1]), so every image of a release has the same ids."""

import runpy
import sys

users = runpy.run_path(sys.argv[1])["USERS"]
print("set -e")
for key, ids in sorted(users.items()):
    name = key.removesuffix("-user")
    print(f"groupadd --gid {ids['gid']} {name}")
    print(f"useradd -l -M --shell /usr/sbin/nologin --uid {ids['uid']} --gid {ids['gid']} {name}")
