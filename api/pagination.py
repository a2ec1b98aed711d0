from __future__ import annotations

import re

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination

_DIGITS = re.compile(r"^[0-9]{1,9}$")


class Pagination(PageNumberPagination):
    """The one pagination of every list: ``{count, next, previous, results}``, ``?page=`` and
    ``?page_size=`` (1 to 500). A page size that is not such a number is refused (400), not
    silently replaced."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    invalid_page_message = "页码超出范围：没有第 {page_number} 页。"

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not _DIGITS.match(raw) or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError({self.page_size_query_param: [f"每页条数应为 1 到 {self.max_page_size} 的整数。"]})
        return int(raw)

    def get_page_number(self, request, paginator):
        raw = request.query_params.get(self.page_query_param)
        if raw is None:
            return 1
        if not _DIGITS.match(raw) or int(raw) < 1:
            raise ValidationError({self.page_query_param: ["页码应为正整数。"]})
        return int(raw)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                # up to nine digits; a page past the end is a 404 (documented on every list)
                parameter["schema"].update(minimum=1, maximum=999_999_999)
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
        return parameters
