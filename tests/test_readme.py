"""The README's commands and examples are the ones that work."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def bash_blocks():
    return re.findall(r"```bash\n(.*?)```", README, flags=re.S)


def test_readme_starts_with_the_two_commands():
    first, second = (block.strip() for block in bash_blocks()[:2])
    assert "pip install -r requirements.txt" in first and "linear_pg train" in first
    assert "pip install -r requirements.txt" in second and "pytest" in second


def test_ci_runs_the_readme_test_command_verbatim():
    test_command = bash_blocks()[1].strip()
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_command in ci_lines


def test_readme_python_examples_run(tmp_path):
    """Every ```python block of the README runs as a script without error."""
    blocks = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    for i, code in enumerate(blocks):
        script = tmp_path / f"example_{i}.py"
        script.write_text(code)
        result = subprocess.run([sys.executable, str(script)], cwd=tmp_path,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, f"README example {i} failed:\n{result.stderr}"
