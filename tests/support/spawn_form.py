"""The spawn page's environment cards as a browser's accessibility tree reads them."""

from __future__ import annotations

from html.parser import HTMLParser


class Cards(HTMLParser):
    """The radio buttons of a form, each with the text of the label that holds it."""

    def __init__(self, form: str):
        super().__init__()
        self.buttons: list[dict] = []
        self.label: dict | None = None
        self.feed(form)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "label":
            self.label = {"for": attrs.get("for"), "text": ""}
        elif tag == "input" and attrs.get("type") == "radio":
            assert self.label is not None and self.label["for"] == attrs["id"], "a button outside its card"
            self.label.update(name=attrs["name"], value=attrs["value"], checked="checked" in attrs, required="required" in attrs)

    def handle_data(self, data):
        if self.label is not None:
            self.label["text"] += data + " "

    def handle_endtag(self, tag):
        if tag == "label" and self.label is not None:
            self.buttons.append(self.label)
            self.label = None
