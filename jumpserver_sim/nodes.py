"""The node tree: apps/assets/api/node.py NodeViewSet (filters `value`, `key`, `id`) and
apps/assets/serializers/node.py NodeSerializer, which creates a path through
apps/assets/models/node.py Node.create_node_by_full_value; the same at v3.10.23 and v4.10.16 but
for the root's value (state.State: `Default` on v3, `DEFAULT` on v4)."""

from __future__ import annotations

from jumpserver_sim.drf import INTERNAL_ERROR, Request, Response, Route, char_error, field_error, object_body
from jumpserver_sim.pagination import page
from jumpserver_sim.state import State


class Nodes:
    def __init__(self, state: State) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        return [
            ("GET", r"/api/v1/assets/nodes/", self.list_nodes),
            ("POST", r"/api/v1/assets/nodes/", self.create_node),
        ]

    def list_nodes(self, request: Request) -> Response:
        nodes = list(self.state.nodes.values())
        for key in ("key", "value", "id"):
            if key in request.query:
                nodes = [node for node in nodes if getattr(node, key) == request.query[key]]
        return page(request, [self.state.render_node(node) for node in nodes], self.state.version)

    def create_node(self, request: Request) -> Response:
        """NodeSerializer: validate_value checks a sent `value` against the root's children; create()
        goes by full_value (Node.create_node_by_full_value) when it is non-empty, else makes a root
        child from `value`."""
        body = object_body(request.body)
        root = self.state.root
        value = body.get("value", "")
        if "value" in body:
            value = self._validated_value(value)
        full_value = body.get("full_value")
        if full_value is None and "full_value" in body:
            raise INTERNAL_ERROR  # NOT NULL constraint on Node.full_value
        if not full_value:
            return Response(201, self.state.render_node(self.state.add_child(root, value)))
        parts = [part for part in str(full_value).split("/") if part]
        if not parts or parts == [root.value]:
            # create_node_by_full_value: no segment is an IndexError; only the root's value makes
            # create_nodes_recurse return None, and serializer.save() asserts: both are a 500
            raise INTERNAL_ERROR
        return Response(201, self.state.render_node(self.state.ensure_path(str(full_value))))

    def _validated_value(self, value: object) -> str:
        """NodeSerializer.validate_value, after the CharField's own checks."""
        if value is None:
            raise INTERNAL_ERROR  # validate_value(None): `'/' in None`
        message = char_error(value, allow_blank=True)
        if message:
            raise field_error("value", message)
        text = str(value)
        if "/" in text:
            raise field_error("value", "Can't contains: /")
        if any(n.parent is self.state.root and n.value == text for n in self.state.nodes.values()):
            raise field_error("value", "The same level node name cannot be the same")
        return text
