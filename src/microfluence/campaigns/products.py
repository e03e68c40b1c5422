"""The brand's products catalogue: what it can gift to creators (``products``), each with a SKU
unique in the workspace, a name, a value in its currency and whether it is still offered.
Creators pick from the active products in the portal (relationships.gifting); a product taken
out of the catalogue leaves the gifts already made of it as they are (they keep its SKU, name
and value)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field
from pydantic_core import PydanticCustomError
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from microfluence.campaigns import values
from microfluence.campaigns.schemas import Currency, MoneyOut, Notes, Strict
from microfluence.campaigns.tables import Product
from microfluence.catalog.schemas import UtcDateTime
from microfluence.kernel.errors import ConflictError, InputError, NotFoundError
from microfluence.kernel.store.tables import utcnow

SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$")
SKU_HINT = "1 to 100 letters, digits, '.', '_', '/' or '-', starting with a letter or digit"
PRODUCT_NAME_MAX = 300


def parse_sku(text: Any, *, field: str = "sku") -> str:
    sku = text.strip() if isinstance(text, str) else ""
    if not SKU.match(sku):
        raise InputError(SKU_HINT, field=field, value=str(text)[:60])
    return sku


def parse_product_name(text: Any, *, field: str = "name") -> str:
    name = text.strip() if isinstance(text, str) else ""
    if not name:
        raise InputError("a product needs a name", field=field)
    if len(name) > PRODUCT_NAME_MAX or any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        raise InputError(
            f"at most {PRODUCT_NAME_MAX} characters, without control characters", field=field
        )
    return name


def _rule(parse: Any, **options: Any) -> BeforeValidator:
    """A rule above applied to the value as sent: its InputError becomes the schema's error
    naming the field, as in campaigns.schemas."""

    def check(value: Any) -> Any:
        try:
            return parse(value, **options)
        except InputError as exc:
            raise PydanticCustomError("invalid", exc.message) from None

    return BeforeValidator(check)


Sku = Annotated[str, Field(max_length=100), _rule(parse_sku)]
ProductName = Annotated[str, Field(max_length=PRODUCT_NAME_MAX), _rule(parse_product_name)]
Value = Annotated[Decimal, _rule(values.parse_money, field="value")]


class ProductCreate(Strict):
    sku: Sku
    name: ProductName
    value: Value
    currency: Currency = "USD"
    description: Notes | None = None
    active: bool = True


class ProductUpdate(Strict):
    """Only the fields sent are changed; ``description`` may be cleared with ``null``."""

    sku: Sku | None = None
    name: ProductName | None = None
    value: Value | None = None
    currency: Currency | None = None
    description: Notes | None = None
    active: bool | None = None


class ProductPublic(BaseModel):
    id: int
    sku: str
    name: str
    description: str | None
    value: MoneyOut
    currency: str
    active: bool = Field(description="Offered to creators in the portal.")
    created_at: UtcDateTime
    updated_at: UtcDateTime


def public(product: Product) -> ProductPublic:
    return ProductPublic.model_validate(product, from_attributes=True)


def find_product(session: Session, workspace_id: int, product_id: int) -> Product:
    product = session.scalar(
        select(Product).where(Product.workspace_id == workspace_id, Product.id == product_id)
    )
    if product is None:
        raise NotFoundError(f"no product with id {product_id} in this workspace")
    return product


def find_product_by_sku(session: Session, workspace_id: int, sku: str) -> Product:
    product = session.scalar(
        select(Product).where(Product.workspace_id == workspace_id, Product.sku == sku.strip())
    )
    if product is None:
        raise NotFoundError(f"no product with SKU {sku.strip()[:100]!r} in this workspace")
    return product


def list_products(
    session: Session, workspace_id: int, *, active_only: bool = False
) -> list[ProductPublic]:
    """The catalogue by name (then SKU); only the products on offer with ``active_only``."""
    query = select(Product).where(Product.workspace_id == workspace_id)
    if active_only:
        query = query.where(Product.active.is_(True))
    return [public(p) for p in session.scalars(query.order_by(Product.name, Product.sku))]


def _flush(session: Session, sku: str) -> None:
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # a concurrent add of the same SKU won
        raise ConflictError(f"a product with SKU {sku!r} already exists") from exc


def _check_sku_free(
    session: Session, workspace_id: int, sku: str, exclude: int | None = None
) -> None:
    query = select(Product.id).where(Product.workspace_id == workspace_id, Product.sku == sku)
    if exclude is not None:
        query = query.where(Product.id != exclude)
    if session.scalar(query) is not None:
        raise ConflictError(f"a product with SKU {sku!r} already exists")


def add_product(session: Session, workspace_id: int, data: ProductCreate) -> ProductPublic:
    _check_sku_free(session, workspace_id, data.sku)
    now = utcnow()
    product = Product(
        workspace_id=workspace_id, created_at=now, updated_at=now, **data.model_dump()
    )
    session.add(product)
    _flush(session, data.sku)
    return public(product)


def update_product(
    session: Session, workspace_id: int, product_id: int, data: ProductUpdate
) -> ProductPublic:
    product = find_product(session, workspace_id, product_id)
    changes = data.model_dump(exclude_unset=True)
    changes = {k: v for k, v in changes.items() if v is not None or k == "description"}
    if "sku" in changes:
        _check_sku_free(session, workspace_id, changes["sku"], exclude=product.id)
    for name, value in changes.items():
        setattr(product, name, value)
    product.updated_at = utcnow()
    _flush(session, product.sku)
    return public(product)


def remove_product(session: Session, workspace_id: int, product_id: int) -> None:
    """Delete the product; gifts made of it keep their SKU, name and value."""
    find_product(session, workspace_id, product_id)
    session.execute(
        delete(Product).where(Product.workspace_id == workspace_id, Product.id == product_id)
    )
