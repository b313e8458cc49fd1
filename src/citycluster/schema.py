"""The raw tables' contracts: which columns each has and which of them hold numbers.

Other projects join on these names (see DESIGN.md), so they live in one place that both ingest
and validation read.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TableSchema:
    """Columns in order, which must be non-empty, and which must parse as numbers."""

    name: str
    columns: tuple[str, ...]
    required: tuple[str, ...]
    numeric: tuple[str, ...] = ()
    key: tuple[str, ...] = ()


CLAIMS = TableSchema(
    name="claims",
    columns=("claim_id", "paragraph", "entity_id", "entity_zh", "entity_en", "entity_type",
             "country", "metric", "printed", "value", "unit", "qualifier", "year", "note"),
    required=("claim_id", "paragraph", "entity_id", "entity_zh", "entity_en", "entity_type",
              "country", "metric", "printed", "value", "unit", "qualifier"),
    numeric=("value", "year"),
    key=("claim_id",),
)

REFERENCE = TableSchema(
    name="reference",
    columns=("ref_id", "entity_id", "entity_zh", "entity_en", "entity_type", "country", "metric",
             "year", "value", "unit", "source_publisher", "source_document", "source_year",
             "source_url", "confidence", "note"),
    required=("ref_id", "entity_id", "entity_en", "entity_type", "country", "metric", "value",
              "unit", "source_publisher", "source_document", "confidence"),
    numeric=("year", "value", "source_year"),
    key=("ref_id",),
)

MEMBERSHIP = TableSchema(
    name="cluster_membership",
    columns=("cluster_id", "cluster_zh", "cluster_en", "member_level", "member_zh", "member_en",
             "province_entity_id", "whole_province", "planning_document", "document_issuer",
             "document_year", "source_url", "confidence", "note"),
    required=("cluster_id", "cluster_en", "member_level", "member_zh", "member_en",
              "province_entity_id", "whole_province", "planning_document", "confidence"),
    numeric=("document_year",),
    key=("cluster_id", "member_zh", "planning_document"),
)

LINKS = TableSchema(
    name="factcheck_links",
    columns=("claim_id", "ref_entity_id", "ref_metric", "ref_year", "use", "relation",
             "compare_as", "note"),
    required=("claim_id", "ref_entity_id", "ref_metric", "use", "relation", "note"),
    numeric=("ref_year",),
    key=("claim_id", "ref_entity_id", "ref_metric", "ref_year", "use"),
)
#: How a linked reference relates to the claimed quantity (see data/raw/README.md).
RELATIONS = ("same", "upper_bound", "lower_bound", "proxy", "alternative")
LINK_USES = ("value", "year")
LINKS_FILE = "factcheck_links.csv"

QUALIFIERS = ("approx", "gt", "lt", "ge", "le", "eq")
CONFIDENCE = ("primary", "secondary", "recalled")
MEMBERSHIP_FILE = "cluster_membership.csv"
