"""The README's C example is examples/hello.c, which the build compiles:
the two must not drift apart, and the program must run and write its
record."""

import json
import os
import subprocess
import tempfile
import unittest

SRC = os.environ["TL_SRC"]
BIN = os.environ["TL_BIN"]


class ReadmeExample(unittest.TestCase):
    def test_readme_matches_example(self):
        with open(os.path.join(SRC, "README.md"), encoding="utf-8") as f:
            readme = f.read()
        with open(os.path.join(SRC, "examples", "hello.c"),
                  encoding="utf-8") as f:
            hello = f.read()
        start = readme.index("```c\n") + len("```c\n")
        block = readme[start:readme.index("```", start)]
        self.assertIn(block, hello)

    def test_example_writes_record(self):
        with tempfile.TemporaryDirectory() as cwd:
            env = dict(os.environ)
            env.pop("TENANTLOG_CONFIG", None)
            run = subprocess.run([os.path.join(BIN, "example_hello")],
                                 cwd=cwd, env=env, capture_output=True,
                                 text=True, timeout=60)
            self.assertEqual(run.returncode, 0, run.stderr)
            path = os.path.join(cwd, "var", "log", "acme", "app.log")
            with open(path, encoding="utf-8") as f:
                records = [json.loads(line) for line in f]
            self.assertEqual(len(records), 1)
            self.assertEqual(records[0]["msg"], "invoice created")
            self.assertEqual(records[0]["request_id"], "req-42")
            self.assertEqual(records[0]["rows"], 3)


if __name__ == "__main__":
    unittest.main()
