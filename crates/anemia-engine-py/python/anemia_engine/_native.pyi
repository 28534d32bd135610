# The compiled module; use the functions of `anemia_engine` instead.
from typing import Any, Optional, Tuple

__version__: str

class ArrowStream:
    def __arrow_c_stream__(self, requested_schema: Optional[object] = None) -> object: ...

def classify(
    data: Any,
    *,
    ruleset_dir: Optional[str] = None,
    layout_name: str = "wide",
    evidence_name: str = "full",
    guidance_text: bool = False,
    source: str = "<frame>",
    decimal_name: str = "auto",
    mapping_path: Optional[str] = None,
    panel_window_days: float = 7.0,
    newest: bool = True,
) -> Tuple[ArrowStream, ArrowStream, str]: ...
def classify_file(
    path: str,
    *,
    ruleset_dir: Optional[str] = None,
    layout_name: str = "auto",
    evidence_name: str = "full",
    guidance_text: bool = False,
    decimal_name: str = "auto",
    mapping_path: Optional[str] = None,
    panel_window_days: float = 7.0,
    newest: bool = True,
) -> Tuple[ArrowStream, ArrowStream, str]: ...
def explain(
    data: Any,
    *,
    row: Optional[int] = None,
    specimen: Optional[str] = None,
    ruleset_dir: Optional[str] = None,
    layout_name: str = "wide",
    decimal_name: str = "auto",
    mapping_path: Optional[str] = None,
    panel_window_days: float = 7.0,
    json: bool = True,
) -> str: ...
def ruleset_info(ruleset_dir: Optional[str] = None) -> str: ...
