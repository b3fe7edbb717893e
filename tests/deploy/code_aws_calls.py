"""The AWS actions each Lambda function's code can call, read from the source (no import, no run).

For every function of the app (its entry points: the routes and HTTP middleware for the API handler, the
authorizer, each decorated event handler), this follows the code it can reach and collects the AWS
operations the adapters it reaches call, as IAM actions.

Reachability is by name, conservatively: a function body reaches the module functions and classes it
names (imports inside functions included, annotations excluded); a reached class reaches each of its
methods that some reached code calls or reads by that attribute name (a method `put` of a reached
repository counts once anything reached calls `.put`). The AWS operations are the boto3 client and
`Table` resource methods the adapters in `chalicelib/aws/` call or hand on (`self._s3.upload_file`),
mapped to IAM actions through botocore's service models; boto3's transfer and presign helpers, the
`batch_writer`, and Powertools' secrets provider and idempotency layer are mapped by what AWS authorises
them with.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "chalicelib"
ADAPTERS = f"{PACKAGE}.aws."
SERVICES = ("dynamodb", "sqs", "s3", "secretsmanager", "sesv2")

# boto3 helpers that are not operations of the service model, and what IAM authorises them with.
HELPER_ACTIONS: dict[str, set[str]] = {
    # Table.batch_writer() sends BatchWriteItem.
    "batch_writer": {"dynamodb:BatchWriteItem"},
    # s3transfer: HeadObject + (ranged) GetObject, both authorised by s3:GetObject.
    "download_file": {"s3:GetObject"},
    "download_fileobj": {"s3:GetObject"},
    # PutObject, or CreateMultipartUpload/UploadPart/CompleteMultipartUpload (all s3:PutObject), and
    # AbortMultipartUpload when a part fails.
    "upload_file": {"s3:PutObject", "s3:AbortMultipartUpload"},
    "upload_fileobj": {"s3:PutObject", "s3:AbortMultipartUpload"},
    # The browser's POST is authorised by the signing role's s3:PutObject.
    "generate_presigned_post": {"s3:PutObject"},
}
# DynamoDB authorises a transaction by the actions of its items (`Put` needs dynamodb:PutItem, ...).
TRANSACTION_ITEMS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}
TRANSACTIONS = ("transact_write_items",)
# Operations IAM authorises under another action.
ACTION_ALIASES = {
    "sqs:SendMessageBatch": "sqs:SendMessage",
    "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
    "s3:HeadObject": "s3:GetObject",
}
# Library classes whose use makes AWS calls on the function's behalf.
LIBRARY_ACTIONS: dict[str, set[str]] = {
    # Powertools parameters: GetSecretValue.
    "SecretsProvider": {"secretsmanager:GetSecretValue"},
    # Powertools idempotency records: get, put (conditional), update, delete.
    "DynamoDBPersistenceLayer": {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
    },
}
# Methods of Python's own containers and strings: on a plain local (a dict, a list) they are never a
# collaborator's method, so they reach nothing by name (`self._store.get(...)` still does).
BUILTIN_METHODS = frozenset(
    name for kind in (dict, list, set, str, bytes, tuple) for name in dir(kind) if not name.startswith("_")
)
ENTRY_DECORATORS = {
    "route": "api_handler",
    "middleware": "api_handler",
}
EVENT_DECORATORS = ("schedule", "on_sqs_message", "on_sns_message", "on_s3_event", "lambda_function")


@functools.cache
def operation_actions() -> dict[str, dict[str, str]]:
    """snake_case operation -> {service: IAM action} for the services the app uses."""
    import botocore.session
    from botocore import xform_name

    session = botocore.session.get_session()
    actions: dict[str, dict[str, str]] = {}
    for service in SERVICES:
        model = session.get_service_model(service)
        prefix = "ses" if service == "sesv2" else service
        for name in model.operation_names:
            action = f"{prefix}:{name}"
            actions.setdefault(xform_name(name), {})[service] = ACTION_ALIASES.get(action, action)
    return actions


@dataclass
class _Module:
    name: str
    tree: ast.Module
    source: str
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = field(default_factory=dict)
    classes: dict[str, ast.ClassDef] = field(default_factory=dict)
    imports: dict[str, tuple[str, str | None]] = field(default_factory=dict)


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports_in(node: ast.AST, module: str) -> Iterator[tuple[str, tuple[str, str | None]]]:
    for child in ast.walk(node):
        if isinstance(child, ast.ImportFrom) and child.module is not None:
            base = child.module
            if child.level:
                package = module.split(".")[: -child.level]
                base = ".".join([*package, child.module])
            for alias in child.names:
                yield alias.asname or alias.name, (base, alias.name)
        elif isinstance(child, ast.Import):
            for alias in child.names:
                yield alias.asname or alias.name.split(".")[0], (alias.name, None)


@functools.cache
def _modules() -> dict[str, _Module]:
    modules: dict[str, _Module] = {}
    for path in [ROOT / "app.py", *sorted((ROOT / PACKAGE).rglob("*.py"))]:
        source = path.read_text()
        module = _Module(_module_name(path), ast.parse(source), source)
        for node in module.tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                module.functions[node.name] = node
            elif isinstance(node, ast.ClassDef):
                module.classes[node.name] = node
        module.imports = dict(_imports_in(module.tree, module.name))
        modules[module.name] = module
    return modules


def _without_annotations(node: ast.AST) -> Iterator[ast.AST]:
    """Every node under `node` except type annotations (they name classes nothing instantiates)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        for name, value in ast.iter_fields(current):
            if name in ("annotation", "returns"):
                continue
            children = value if isinstance(value, list) else [value]
            stack.extend(child for child in children if isinstance(child, ast.AST))


@dataclass(frozen=True)
class _Code:
    """What one function body names: module-level symbols (resolved), attribute names, and the methods
    called on a factory's result whose class its return annotation names (`deps.get_x().method`)."""

    symbols: frozenset[tuple[str, str]]
    attributes: frozenset[str]
    methods: frozenset[tuple[str, str, str]] = frozenset()


def _returned_class(symbol: tuple[str, str]) -> tuple[str, str] | None:
    """The chalicelib class a module function's return annotation names."""
    module_name, name = symbol
    if module_name not in _modules() or name not in _modules()[module_name].functions:
        return None
    returns = _modules()[module_name].functions[name].returns
    if isinstance(returns, ast.Constant) and isinstance(returns.value, str):
        annotation = returns.value
    elif isinstance(returns, ast.Name):
        annotation = returns.id
    else:
        return None
    resolved = _resolve(_modules()[module_name], annotation)
    if (
        resolved is None
        or resolved[0] not in _modules()
        or resolved[1] not in _modules()[resolved[0]].classes
    ):
        return None
    return resolved


def _resolve(module: _Module, name: str) -> tuple[str, str] | None:
    if name in module.functions or name in module.classes:
        return (module.name, name)
    target = module.imports.get(name)
    if target is None:
        return None
    base, imported = target
    if imported is None:
        return None
    if base in _modules() and (
        imported in _modules()[base].functions or imported in _modules()[base].classes
    ):
        return (base, imported)
    if base in _modules():  # re-exported through another import
        return _resolve(_modules()[base], imported)
    return ("<library>", imported)


def _on_self(receiver: ast.expr) -> bool:
    """`self` or `self.<attribute>...`: a collaborator the class holds, not a value it computed."""
    while isinstance(receiver, ast.Attribute):
        receiver = receiver.value
    return isinstance(receiver, ast.Name) and receiver.id == "self"


def _code(module: _Module, node: ast.AST) -> _Code:
    local = dict(_imports_in(node, module.name))
    scoped = _Module(module.name, module.tree, module.source, module.functions, module.classes)
    scoped.imports = {**module.imports, **local}
    symbols: set[tuple[str, str]] = set()
    attributes: set[str] = set()
    methods: set[tuple[str, str, str]] = set()
    for child in _without_annotations(node):
        if isinstance(child, ast.Name):
            resolved = _resolve(scoped, child.id)
            if resolved is not None:
                symbols.add(resolved)
        elif isinstance(child, ast.Attribute):
            receiver = child.value
            factory = None
            if isinstance(receiver, ast.Call):
                if isinstance(receiver.func, ast.Name):
                    factory = _resolve(scoped, receiver.func.id)
                elif isinstance(receiver.func, ast.Attribute) and isinstance(receiver.func.value, ast.Name):
                    origin = scoped.imports.get(receiver.func.value.id)
                    if origin is not None and origin[1] is None and origin[0] in _modules():
                        factory = (origin[0], receiver.func.attr)
                    elif (
                        origin is not None
                        and origin[1] is not None
                        and f"{origin[0]}.{origin[1]}" in _modules()
                    ):
                        factory = (f"{origin[0]}.{origin[1]}", receiver.func.attr)
            returned = _returned_class(factory) if factory is not None else None
            named_class = _resolve(scoped, receiver.id) if isinstance(receiver, ast.Name) else None
            if returned is not None:
                methods.add((*returned, child.attr))
            elif (
                named_class is not None
                and named_class[0] in _modules()
                and named_class[1] in _modules()[named_class[0]].classes
            ):
                methods.add((*named_class, child.attr))  # `Class.method(...)`, a classmethod
            elif child.attr not in BUILTIN_METHODS or _on_self(receiver):
                attributes.add(child.attr)
            # `module.function` through an imported module.
            if isinstance(child.value, ast.Name) and child.value.id in scoped.imports:
                source_module, imported = scoped.imports[child.value.id]
                qualified = source_module if imported is None else f"{source_module}.{imported}"
                if qualified in _modules():
                    target = _modules()[qualified]
                    if child.attr in target.functions or child.attr in target.classes:
                        symbols.add((qualified, child.attr))
    return _Code(frozenset(symbols), frozenset(attributes), frozenset(methods))


def _decorator_name(decorator: ast.expr) -> tuple[str | None, str | None]:
    """(the decorator's attribute name, its `name=` keyword) for `@x.attr(..., name="...")`."""
    call = decorator if isinstance(decorator, ast.Call) else None
    target = call.func if call is not None else decorator
    attribute = target.attr if isinstance(target, ast.Attribute) else None
    keyword = None
    if call is not None:
        for item in call.keywords:
            if item.arg == "name" and isinstance(item.value, ast.Constant):
                keyword = str(item.value.value)
    return attribute, keyword


@functools.cache
def entry_points() -> dict[str, frozenset[tuple[str, str]]]:
    """Lambda function name -> the module functions Lambda runs first (routes, authorizers, handlers)."""
    entries: dict[str, set[tuple[str, str]]] = {}
    for module in _modules().values():
        for function in module.functions.values():
            for decorator in function.decorator_list:
                attribute, keyword = _decorator_name(decorator)
                if attribute in ENTRY_DECORATORS:
                    entries.setdefault(ENTRY_DECORATORS[attribute], set()).add((module.name, function.name))
                elif attribute == "authorizer" or attribute in EVENT_DECORATORS:
                    entries.setdefault(keyword or function.name, set()).add((module.name, function.name))
    return {name: frozenset(found) for name, found in entries.items()}


def _methods(module: str, name: str) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    node = _modules()[module].classes[name]
    found: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
    for item in node.body:
        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
            found[item.name] = item
    return found


@dataclass
class Reach:
    """What one Lambda function's code can reach."""

    functions: set[tuple[str, str]] = field(default_factory=set)  # (module, function)
    classes: set[tuple[str, str]] = field(default_factory=set)
    methods: set[tuple[str, str, str]] = field(default_factory=set)  # (module, class, method)
    attributes: set[str] = field(default_factory=set)
    libraries: set[str] = field(default_factory=set)
    # (module, node) of every reached body, for the AWS calls in it.
    bodies: list[tuple[str, ast.AST]] = field(default_factory=list)


def reach(function: str) -> Reach:
    modules = _modules()
    result = Reach()
    pending: list[tuple[str, ast.AST]] = []

    def visit_symbol(symbol: tuple[str, str]) -> None:
        module, name = symbol
        if module == "<library>":
            result.libraries.add(name)
        elif name in modules[module].functions:
            if symbol not in result.functions:
                result.functions.add(symbol)
                pending.append((module, modules[module].functions[name]))
        elif symbol not in result.classes:
            result.classes.add(symbol)
            node = modules[module].classes[name]
            # Class-level code (field defaults, decorators) and the base classes it names.
            body: list[ast.stmt] = [
                item for item in node.body if not isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
            ]
            body += [ast.Expr(value=expression) for expression in (*node.decorator_list, *node.bases)]
            pending.append((module, ast.Module(body=body, type_ignores=[])))
            for method, definition in _methods(module, name).items():
                if method.startswith("__") or method in result.attributes:
                    visit_method(module, name, method, definition)

    def visit_method(module: str, cls: str, method: str, node: ast.AST) -> None:
        key = (module, cls, method)
        if key not in result.methods:
            result.methods.add(key)
            pending.append((module, node))

    for entry in entry_points()[function]:
        visit_symbol(entry)
    while pending:
        module, node = pending.pop()
        result.bodies.append((module, node))
        code = _code(modules[module], node)
        new_attributes = code.attributes - result.attributes
        result.attributes |= code.attributes
        for symbol in code.symbols:
            visit_symbol(symbol)
        for cls_module, cls, method in code.methods:
            visit_symbol((cls_module, cls))
            definition = _methods(cls_module, cls).get(method)
            if definition is not None:
                visit_method(cls_module, cls, method, definition)
        for cls_module, cls in list(result.classes):
            for method, definition in _methods(cls_module, cls).items():
                if method in new_attributes:
                    visit_method(cls_module, cls, method, definition)
        # A base class named in `class X(Base)` counts as reached with X (done through the class body).
    return result


def _service_of(module: _Module, candidates: dict[str, str]) -> str:
    """The action for an operation name several services share: the service the adapter talks to."""
    if len(candidates) == 1:
        return next(iter(candidates.values()))
    mentioned = [service for service in candidates if service in module.source.lower()]
    assert len(mentioned) == 1, f"{module.name}: cannot tell which service {candidates} belongs to"
    return candidates[mentioned[0]]


# What Lambda's SQS poller does with the function's role for an `on_sqs_message` handler.
SQS_TRIGGER_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")


def sqs_triggered() -> frozenset[str]:
    """The functions an SQS event source mapping invokes (its poller uses the function's role)."""
    names = set()
    for module in _modules().values():
        for function in module.functions.values():
            for decorator in function.decorator_list:
                attribute, keyword = _decorator_name(decorator)
                if attribute == "on_sqs_message":
                    names.add(keyword or function.name)
    return frozenset(names)


def aws_actions(function: str) -> dict[str, set[str]]:
    """IAM action -> what needs it (the reached adapter functions, a library, the SQS trigger), for one
    Lambda function's code."""
    operations = operation_actions()
    found: dict[str, set[str]] = {}
    reached = reach(function)
    for module_name, node in reached.bodies:
        module = _modules()[module_name]
        if not module_name.startswith(ADAPTERS):
            continue
        where = f"{module_name}:{getattr(node, 'name', '<class>')}"
        for child in _without_annotations(node):
            if not isinstance(child, ast.Attribute):
                continue
            if child.attr in HELPER_ACTIONS:
                for action in HELPER_ACTIONS[child.attr]:
                    found.setdefault(action, set()).add(where)
            elif child.attr in TRANSACTIONS:
                for item in ast.walk(node):
                    if isinstance(item, ast.Dict):
                        for key in item.keys:
                            if isinstance(key, ast.Constant) and key.value in TRANSACTION_ITEMS:
                                found.setdefault(TRANSACTION_ITEMS[str(key.value)], set()).add(where)
            elif child.attr == "send_email" and '"Raw"' in module.source:
                # SES v2 SendEmail with raw MIME content is authorised as both.
                for action in ("ses:SendEmail", "ses:SendRawEmail"):
                    found.setdefault(action, set()).add(where)
            elif child.attr in operations and isinstance(child.ctx, ast.Load):
                action = _service_of(module, operations[child.attr])
                found.setdefault(action, set()).add(where)
    for library in reached.libraries:
        for action in LIBRARY_ACTIONS.get(library, ()):
            found.setdefault(action, set()).add(library)
    if function in sqs_triggered():
        for action in SQS_TRIGGER_ACTIONS:
            found.setdefault(action, set()).add("<sqs event source>")
    return found


def settings_read(function: str) -> set[str]:
    """The settings fields the function's reachable code reads (`settings.x`, or `require("x")`)."""
    from chalicelib.settings import Settings

    fields = set(Settings.model_fields)
    read: set[str] = set()
    for _module, node in reach(function).bodies:
        for child in _without_annotations(node):
            if isinstance(child, ast.Attribute) and child.attr in fields:
                read.add(child.attr)
            elif isinstance(child, ast.Constant) and child.value in fields:
                read.add(str(child.value))
    return read


def trigger_queue_setting(function: str) -> str | None:
    """The settings field naming the queue an `on_sqs_message` handler is triggered by
    (`queue=NAME`, with `NAME = get_settings().<field>` in its module)."""
    for module in _modules().values():
        for definition in module.functions.values():
            for decorator in definition.decorator_list:
                attribute, keyword = _decorator_name(decorator)
                if attribute != "on_sqs_message" or (keyword or definition.name) != function:
                    continue
                assert isinstance(decorator, ast.Call)
                (queue,) = [item.value for item in decorator.keywords if item.arg == "queue"]
                assert isinstance(queue, ast.Name), function
                for node in module.tree.body:
                    if (
                        isinstance(node, ast.Assign)
                        and any(isinstance(t, ast.Name) and t.id == queue.id for t in node.targets)
                        and isinstance(node.value, ast.Attribute)
                    ):
                        return node.value.attr
    return None
