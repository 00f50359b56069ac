"""README.txt of a bundle: what each part is, and how to verify it by hand with standard tools.

The hand procedure makes the same checks as ``rootwatch verify`` (``verify``), as POSIX shell
commands: each must exit 0, so ``sh -e`` over them gives the verdict, and they write nothing into the
bundle. Commands are the lines indented by six spaces or more, prose less, so a test can follow them
verbatim (tests/bundle/test_by_hand.py) and README.md shows the same text (``procedure``).
"""

from __future__ import annotations

from rootwatch.bundle.sign import FILES

PARTS = """\
Contents
  README.txt                  this file: what each part is, and how to verify the bundle by hand
  report.html                 the evidence report (self-contained; open in any browser)
  report.pdf                  the same report as PDF{pdf_note}
  root_usage_evidence.ipynb   the executed notebook the report was made from
  findings.json               one record per account x control: status PASS/FAIL/GAP and each link's reason
  findings.ocsf.json          the same findings as OCSF 1.1 Compliance Findings (class 2003), for SIEMs
  findings.csv                the same findings in the column layout of CIS compliance CSVs
  data/*.csv, data/*.parquet  every evidence table (trails, filters, alarms, subscriptions, history, root events...)
  raw/<account>/<region>/     every AWS API response, with the call (service, operation, parameters) that produced it
  collection.json             when the evidence was collected and by which AWS identities
  parameters.yaml             the parameters of the run (no credentials)
  environment.json            rootwatch version and git commit, package versions, run times, signers
  SHA256SUMS                  SHA-256 of every file above, for `sha256sum -c`
  manifest.json               SHA-256 and size of every file above and of SHA256SUMS: what is signed
{signatures_line}{signatures}
"""
# README.txt's line naming the files under signatures/: what ``rootwatch verify`` and step 1 by hand hold that
# directory to (``declared_signatures``), in the signed README.txt so that no signature is added or removed unseen
SIGNATURES_LINE = "  signatures/                 signatures of manifest.json (not listed in it): "
UNSIGNED = "none: the bundle is not signed"

ANCHORS = {  # kind -> (variable, what the auditor was given, rootwatch verify option)
    "ssh": ("KEY", "the signer's OpenSSH public key, one line (e.g. KEY=$HOME/rootwatch-signer.pub)", "--trusted-key"),
    "x509": ("CA", "your CA certificate(s), PEM, or the signer's certificate itself", "--trusted-ca"),
    "kms": ("KMS", ("the KMS key's public key: aws kms get-public-key --key-id <ARN> --query PublicKey "
                    "--output text | base64 -d > kms.der"), "--trusted-kms"),
}

STEPS = {
    "ssh": """\
     SSH (the key you were given signed manifest.json; signatures/signer.pub is that key):
      printf 'rootwatch %s\\n' "$(cat "$KEY")" > "$d/allowed_signers"
      ssh-keygen -Y verify -f "$d/allowed_signers" -I rootwatch -n file -s signatures/manifest.json.sshsig < manifest.json
      test "$(ssh-keygen -lf "$KEY" | cut -d' ' -f2)" = "$(ssh-keygen -lf signatures/signer.pub | cut -d' ' -f2)"
""",
    "x509": """\
     X.509 (a certificate chaining to your CA signed manifest.json; signatures/signer.crt.pem is that certificate):
      openssl cms -verify -binary -inform DER -in signatures/manifest.json.p7s -content manifest.json \\
          -CAfile "$CA" -partial_chain -purpose any -signer "$d/cms-signer.pem" -out /dev/null
      test "$(openssl x509 -in "$d/cms-signer.pem" -noout -fingerprint -sha256)" = \\
          "$(openssl x509 -in signatures/signer.crt.pem -noout -fingerprint -sha256)"
""",
    "pdf": """\
     PDF (its one PAdES signature covers the whole file: for when report.pdf travels alone):
      test "$(pdfsig report.pdf | grep -c -x -e '  - Total document signed' -e '  - Signature Validation: Signature is Valid.')" = 2
""",
    "kms": """\
     AWS KMS (the KMS key you were given signed manifest.json; signatures/kms-public.pem is that key):
      openssl dgst -sha256 -verify "$KMS" -signature signatures/manifest.json.kms.sig manifest.json
      test "$(openssl pkey -pubin -in "$KMS" -outform DER | sha256sum)" = \\
          "$(openssl pkey -pubin -in signatures/kms-public.pem -outform DER | sha256sum)"
""",
}


def procedure(signer_kinds: list[str], pdf_signed: bool) -> str:
    """How to verify a bundle signed by ``signer_kinds``, with rootwatch and by hand."""
    kinds = [k for k in FILES if k in signer_kinds]
    if not kinds:
        return "  This bundle is not signed: nothing says who made it, nor that it is unchanged.\n"
    options = " ".join(f"{ANCHORS[k][2]} <{ANCHORS[k][0].lower()} file>" for k in kinds)
    variables = "".join(f"    {ANCHORS[k][0]:<4} {ANCHORS[k][1]}\n" for k in kinds)
    own = ", ".join(f"{ANCHORS[k][0]}=signatures/{FILES[k][1]}" for k in kinds)
    signatures = " ".join(f"signatures/{name}" for k in kinds for name in FILES[k])
    steps = "".join(STEPS[k] + (STEPS["pdf"] if k == "x509" and pdf_signed else "") for k in kinds)
    return f"""\
  Pin the signer: check the bundle against what you were given for its signer, out of band, never
  against the copies in signatures/ (whoever changes the bundle can replace those too).

  With rootwatch (exit 0 only for VERIFIED; it names every problem):
    rootwatch verify <this directory> {options}

  By hand, with a POSIX shell, coreutils, find, diff, OpenSSH 8.1 or newer, OpenSSL 1.1 or newer
  and poppler's pdfsig: set these shell variables to the files you were given,
{variables}\
  then run the commands below (the lines indented by six spaces) from this directory, in order. Each
  must exit 0 (`sh -e` stops at the first that does not); they write only into a temporary directory.
  For a signer you were given nothing for, name this bundle's own copy instead
  ({own}): that checks its signature is intact, not who made it.
  With no anchor of your own at all, nothing says who signed the bundle (rootwatch verify --no-pin).
  1. Nothing here but the signed files: no symlink, FIFO, socket, device or empty directory (checked
     before any file is read: sha256sum would wait on a FIFO forever), no file missing or added:
      test -z "$(find . ! -type f ! -type d)"
      test -z "$(find . -type d -empty)"
      d=$(mktemp -d)
      {{ cut -c67- SHA256SUMS; printf '%s\\n' SHA256SUMS manifest.json {signatures}; }} | LC_ALL=C sort > "$d/listed"
      find . -type f | cut -c3- | LC_ALL=C sort | diff "$d/listed" -
  2. The signatures over manifest.json:
{steps}\
  3. Every file as signed: SHA256SUMS is the one manifest.json lists, and every file matches it:
      grep -A1 '"path": "SHA256SUMS"' manifest.json | grep -q "\\"sha256\\": \\"$(sha256sum < SHA256SUMS | cut -c1-64)\\""
      sha256sum --strict --quiet -c SHA256SUMS
      echo "every check passed"
"""


def readme(run_id: str, pdf_produced: bool, pdf_message: str, signer_kinds: list[str]) -> str:
    note = "" if pdf_produced else f"\n                              NOT PRODUCED in this run: {pdf_message}"
    names = " ".join(name for k in FILES if k in signer_kinds for name in FILES[k]) or UNSIGNED
    return f"""rootwatch evidence bundle {run_id}

{PARTS.format(pdf_note=note, signatures_line=SIGNATURES_LINE, signatures=names)}
How to verify this bundle
{procedure(signer_kinds, pdf_produced)}
A bundle holding a file named INCOMPLETE, or whose directory ends in .incomplete, did not finish and is not evidence.
"""


def declared_signatures(text: str) -> set[str] | None:
    """The files README.txt says signatures/ holds; ``None`` when it names none (bundles made before it did)."""
    for line in text.splitlines():
        if line.startswith(SIGNATURES_LINE):
            rest = line[len(SIGNATURES_LINE):]
            return set() if rest == UNSIGNED else set(rest.split())
    return None
