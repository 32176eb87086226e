import hashlib, sys
prev = b"0" * 64
for path in sys.argv[1:]:
    for n, raw in enumerate(open(path, "rb"), 1):
        rec = raw[:-1] if raw.endswith(b"\n") else sys.exit(f"{path}:{n}: partial line")
        ok = len(rec) >= 130 and rec[64:65] == b"|" and rec[-65:-64] == b"|"
        if not ok or rec[:64] != prev or hashlib.sha256(rec[:-65]).hexdigest().encode() != rec[-64:]:
            sys.exit(f"{path}:{n}: broken")
        prev = rec[-64:]
print("ok", len(sys.argv) - 1, "files, head", prev.decode())
