#!/usr/bin/env python3
"""The reference for the push benchmark: Google's libphonenumber (Python `phonenumbers`)
parsing and formatting to E.164 the same numbers a push holds, and nothing else (no CSV, no
storage, no HTTP). Prints the seconds it took."""
import sys
import time

import phonenumbers

numbers = [l.strip() for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
t = time.perf_counter()
ok = 0
for s in numbers:
    try:
        p = phonenumbers.parse(s, "DE")
        if phonenumbers.is_valid_number(p):
            phonenumbers.format_number(p, phonenumbers.PhoneNumberFormat.E164)
            ok += 1
    except phonenumbers.NumberParseException:
        pass
print("%.4f %d" % (time.perf_counter() - t, ok))
