"""README.txt of a bundle: what each part is, and how to verify it by hand with standard tools."""

from __future__ import annotations

PARTS = """\
Contents
  report.html                 the evidence report (self-contained; open in any browser)
  report.pdf                  the same report as PDF{pdf_note}
  root_usage_evidence.ipynb   the executed notebook the report was made from
  findings.json               one record per account x control: status PASS/FAIL/GAP and each link's reason
  data/*.csv, data/*.parquet  every evidence table (trails, filters, alarms, subscriptions, history, root events...)
  raw/<account>/<region>/     every AWS API response, with the call (service, operation, parameters) that produced it
  collection.json             when the evidence was collected and by which AWS identities
  parameters.yaml             the parameters of the run (no credentials)
  environment.json            rootwatch version and git commit, package versions, run times, signers
  SHA256SUMS                  SHA-256 of every file above, for `sha256sum -c`
  manifest.json               SHA-256 and size of every file above and of SHA256SUMS: what is signed
  signatures/                 signatures of manifest.json (not listed in it)
"""

STEPS = {
    "ssh": """\
  SSH (OpenSSH 8.1 or newer):
    echo "rootwatch $(cat signatures/signer.pub)" > allowed_signers
    ssh-keygen -Y verify -f allowed_signers -I rootwatch -n file -s signatures/manifest.json.sshsig < manifest.json
    ssh-keygen -lf signatures/signer.pub     # the key fingerprint: compare it with the one you were given
""",
    "x509": """\
  X.509 (CMS detached signature; use your organisation's CA file, or the signer certificate itself):
    openssl cms -verify -binary -inform DER -in signatures/manifest.json.p7s -content manifest.json \\
        -CAfile <your-ca.pem> -purpose any -out /dev/null
    openssl x509 -in signatures/signer.crt.pem -noout -subject -issuer -dates
  PDF (PAdES signature inside report.pdf):
    pdfsig report.pdf
""",
    "kms": """\
  AWS KMS (public key exported from the signing key; compare it with `aws kms get-public-key`):
    openssl dgst -sha256 -verify signatures/kms-public.pem -signature signatures/manifest.json.kms.sig manifest.json
""",
}


def readme(run_id: str, pdf_produced: bool, pdf_message: str, signer_kinds: list[str]) -> str:
    note = "" if pdf_produced else f"\n                              NOT PRODUCED in this run: {pdf_message}"
    steps = "".join(STEPS[k] for k in signer_kinds) or "  (this bundle is not signed)\n"
    return f"""rootwatch evidence bundle {run_id}

{PARTS.format(pdf_note=note)}
How to verify this bundle by hand
  1. Check the signature(s) over manifest.json:
{steps}  2. Check every file against the signed manifest:
    sha256sum -c SHA256SUMS
    grep -A2 '"path": "SHA256SUMS"' manifest.json; sha256sum SHA256SUMS     # the two hashes must agree
  3. No file may be missing, and no file may be present that manifest.json does not list
     (signatures/ excepted): `rootwatch verify <this directory>` does all of this in one command.
A bundle holding a file named INCOMPLETE, or whose directory ends in .incomplete, did not finish and is not evidence.
"""
