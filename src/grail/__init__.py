"""grail: a local-first document assistant with cited, checked answers.

    from grail import Grail
    g = Grail("./.grail")
    g.index("~/filings")
    print(g.ask("What was 3M's capital expenditure in FY2018?").text)
"""

from grail.facade import Grail
from grail.store import Filters

__version__ = "0.1.0"
__all__ = ["Grail", "Filters", "__version__"]
