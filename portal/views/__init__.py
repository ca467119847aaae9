"""Blueprints. A view parses, checks permission, calls one service and renders."""
