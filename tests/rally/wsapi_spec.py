"""An OpenAPI 3.0 description of the part of Rally WSAPI v2.0 almdesk uses, for validating traffic.

No OpenAPI file ships with the shared specs for Rally. This subset follows the shapes of Rally's
own published "Rally WebService API" OpenAPI document (title "Rally WebService API", v2.0, as
mirrored by the generated Go client simonlowe/rally-go, api/openapi.yaml): query responses are
``QueryResult`` with ``StartIndex``/``PageSize``/``TotalResultCount``/``Results``/``Errors``/
``Warnings``, creates ``CreateResult`` with ``Object``, reads ``{"<Type>": {…, "Errors", "Warnings"}}``,
batch ``{"Batch": [{"Entry": {Path, Method, Body}}]}`` → ``BatchResult``; artifacts carry
``ObjectID`` (int64), ``FormattedID``, ``LastUpdateDate`` (date-time string) and references as
``{"_ref": …}``. Two things are this project's own reading, not Rally's document: ``pagesize``
at most 2000 (pyral's MAX_PAGESIZE, KB 47778) and ``start`` at least 1.
"""

from __future__ import annotations

from typing import Any

API = "/slm/webservice/v2.0"

STRINGS: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
REF: dict[str, Any] = {"type": "object", "nullable": True, "required": ["_ref"],
                       "properties": {"_ref": {"type": "string"}, "_refObjectName": {"type": "string"},
                                      "_type": {"type": "string"}, "_refObjectUUID": {"type": "string"}}}
COLLECTION: dict[str, Any] = {"type": "object", "required": ["_ref", "Count"],
                              "properties": {"_ref": {"type": "string"}, "_type": {"type": "string"},
                                             "Count": {"type": "integer", "minimum": 0}}}
DATE: dict[str, Any] = {"type": "string", "format": "date-time", "nullable": True}
ENVELOPE: dict[str, Any] = {"Errors": STRINGS, "Warnings": STRINGS, "_rallyAPIMajor": {"type": "string"},
                            "_rallyAPIMinor": {"type": "string"}}


def _artifact(extra: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = {
        "_ref": {"type": "string"}, "_type": {"type": "string"}, "_refObjectName": {"type": "string"},
        "ObjectID": {"type": "integer", "format": "int64"}, "ObjectUUID": {"type": "string"},
        "FormattedID": {"type": "string", "pattern": "^[A-Z]{1,2}[0-9]+$"}, "Name": {"type": "string",
                                                                                  "maxLength": 256},
        "Description": {"type": "string", "nullable": True}, "Notes": {"type": "string", "nullable": True},
        "CreationDate": DATE, "LastUpdateDate": DATE, "Project": REF, "Workspace": REF, "Owner": REF,
        "Tags": COLLECTION, "Blocked": {"type": "boolean"}, "Ready": {"type": "boolean"},
        **extra}
    return {"type": "object", "required": ["_ref"], "properties": props}


SCHEDULE_STATE = {"type": "string", "enum": ["Defined", "In-Progress", "Completed", "Accepted"]}
TYPES: dict[str, dict[str, Any]] = {
    "HierarchicalRequirement": _artifact({"ScheduleState": SCHEDULE_STATE, "Parent": REF, "Release": REF,
                                          "Children": COLLECTION, "Tasks": COLLECTION, "Defects": COLLECTION,
                                          "PlanEstimate": {"type": "number", "nullable": True}}),
    "Defect": _artifact({"ScheduleState": SCHEDULE_STATE, "State": {"type": "string"}, "Severity": {"type": "string"},
                         "Priority": {"type": "string"}, "Requirement": REF, "Release": REF,
                         "Tasks": COLLECTION}),
    "Task": _artifact({"State": {"type": "string", "enum": ["Defined", "In-Progress", "Completed"]},
                       "WorkProduct": REF}),
}
OTHER_TYPES = ("User", "Subscription", "Workspace", "Project", "Release", "Tag", "TypeDefinition",
               "AttributeDefinition", "AllowedAttributeValue", "ProjectPermission")


def _query_result(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": ["QueryResult"], "properties": {"QueryResult": {
        "type": "object", "required": ["Errors", "Warnings", "TotalResultCount", "StartIndex", "PageSize", "Results"],
        "properties": {**ENVELOPE, "TotalResultCount": {"type": "integer", "minimum": 0},
                       "StartIndex": {"type": "integer", "minimum": 1},
                       "PageSize": {"type": "integer", "minimum": 1, "maximum": 2000},
                       "Results": {"type": "array", "items": item}}}}}


def _result(kind: str, obj: dict[str, Any] | None) -> dict[str, Any]:
    props = dict(ENVELOPE)
    if obj is not None:
        props["Object"] = obj
    if kind == "OperationResult":
        props["SecurityToken"] = {"type": "string"}
    return {"type": "object", "required": [kind], "properties": {kind: {
        "type": "object", "required": ["Errors", "Warnings"], "properties": props}}}


def _ok(schema: dict[str, Any]) -> dict[str, Any]:
    return {"200": {"description": "success (Errors may still be set)",
                    "content": {"application/json": {"schema": schema}}},
            "401": {"description": "bad credentials (Jetty HTML)", "content": {"text/html": {"schema": {}}}}}


def _param(name: str, schema: dict[str, Any], where: str = "query", required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": where, "required": required, "schema": schema}


QUERY_PARAMS = [
    _param("fetch", {"type": "string"}), _param("query", {"type": "string"}), _param("order", {"type": "string"}),
    _param("start", {"type": "integer", "minimum": 1}),
    _param("pagesize", {"type": "integer", "minimum": 1, "maximum": 2000}),
    _param("workspace", {"type": "string"}), _param("project", {"type": "string"}),
    _param("projectScopeUp", {"type": "boolean"}), _param("projectScopeDown", {"type": "boolean"}),
]
WRITE_PARAMS = [_param("fetch", {"type": "string"}), _param("workspace", {"type": "string"}),
                _param("key", {"type": "string"})]
OID = _param("objectId", {"type": "string", "pattern": "^-?[0-9]+$"}, "path", True)


def build(server_url: str) -> dict[str, Any]:
    paths: dict[str, Any] = {
        f"{API}/security/authorize": {"get": {"responses": _ok(_result("OperationResult", None))}},
        f"{API}/batch": {"post": {
            "parameters": WRITE_PARAMS,
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["Batch"], "properties": {"Batch": {"type": "array", "items": {
                    "type": "object", "required": ["Entry"], "properties": {"Entry": {
                        "type": "object", "required": ["Path", "Method"],
                        "properties": {"Path": {"type": "string", "pattern": "^/"},
                                       "Method": {"type": "string", "enum": ["GET", "POST", "PUT", "DELETE"]},
                                       "Body": {"type": "object"}}}}}}}}}}},
            "responses": _ok({"type": "object", "required": ["BatchResult"], "properties": {"BatchResult": {
                "type": "object", "required": ["Errors", "Warnings", "Results"],
                "properties": {**ENVELOPE, "Results": {"type": "array", "items": {
                    "type": "object", "required": ["Errors", "Warnings"], "properties": ENVELOPE}}}}}})}},
    }
    for name, schema in TYPES.items():
        low = name.lower()
        read = {"type": "object", "required": [name], "properties": {name: {
            **schema, "required": ["_ref", "Errors", "Warnings"],
            "properties": {**schema["properties"], "Errors": STRINGS, "Warnings": STRINGS}}}}
        mutation = {"type": "object", "required": [name], "additionalProperties": False,
                    "properties": {name: {"type": "object"}}}
        paths[f"{API}/{low}"] = {"get": {"parameters": QUERY_PARAMS, "responses": _ok(_query_result(schema))}}
        paths[f"{API}/{low}/create"] = {"post": {
            "parameters": WRITE_PARAMS,
            "requestBody": {"required": True, "content": {"application/json": {"schema": mutation}}},
            "responses": _ok(_result("CreateResult", schema))}}
        paths[f"{API}/{low}/{{objectId}}"] = {
            "get": {"parameters": [OID, _param("fetch", {"type": "string"})],
                    "responses": _ok({"anyOf": [read, _result("OperationResult", None)]})},
            "post": {"parameters": [OID, *WRITE_PARAMS],
                     "requestBody": {"required": True, "content": {"application/json": {"schema": mutation}}},
                     "responses": _ok(_result("OperationResult", schema))}}
    generic = {"type": "object", "required": ["_ref"], "properties": {"_ref": {"type": "string"}}}
    for name in OTHER_TYPES:
        low = name.lower()
        paths[f"{API}/{low}"] = {"get": {"parameters": QUERY_PARAMS, "responses": _ok(
            {"anyOf": [_query_result(generic), {"type": "object", "required": [name]}]})}}
        paths[f"{API}/{low}/{{objectId}}"] = {"get": {"parameters": [OID, _param("fetch", {"type": "string"})],
                                                      "responses": _ok({"type": "object"})}}
    paths[f"{API}/tag/create"] = {"post": {
        "parameters": WRITE_PARAMS,
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["Tag"], "properties": {"Tag": {
                "type": "object", "required": ["Name"], "properties": {"Name": {"type": "string"}}}}}}}},
        "responses": _ok(_result("CreateResult", generic))}}
    for name in (*TYPES, *OTHER_TYPES):  # collection refs spell the type like Rally does: /Defect/1/Tasks
        paths[f"{API}/{name}/{{objectId}}/{{collection}}"] = {"get": {
            "parameters": [OID, _param("collection", {"type": "string"}, "path", True), *QUERY_PARAMS],
            "responses": _ok(_query_result(generic))}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Rally WebService API (subset used by almdesk)", "version": "v2.0"},
        "servers": [{"url": server_url}],
        "components": {"securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "ZSESSIONID"},
                                           "basicAuth": {"type": "http", "scheme": "basic"}}},
        "security": [{"apiKey": []}, {"basicAuth": []}],
        "paths": paths,
    }
