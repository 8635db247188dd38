"""The library stays pure: no web framework, database driver, service package or pandas
(pandas only inside forecasting.frames, the optional adapter, when its functions run)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_importing_and_running_forecasting_loads_no_flask_sqlalchemy_or_service_code():
    code = (
        "import sys, numpy as np\n"
        "import forecasting, forecasting.backtest, forecasting.synthetic, forecasting.frames\n"
        "p = forecasting.synthetic.make_apparel_panel(60, seed=0)\n"
        "forecasting.run_pipeline(p.sales, p.returns, p.stock, p.items)\n"
        "forecasting.DemandModel(p.sales).fit().forecast(4, level=[80])\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('flask', 'sqlalchemy', 'returns_inventory', 'pandas', 'psycopg')]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == ""


def test_no_module_of_the_library_names_a_forbidden_package():
    forbidden = ("import flask", "from flask", "sqlalchemy", "returns_inventory", "pandas")
    for path in (ROOT / "forecasting").rglob("*.py"):
        text = path.read_text()
        allowed = ("pandas",) if path.name == "frames.py" else ()
        assert not any(word in text for word in forbidden if word not in allowed), path
