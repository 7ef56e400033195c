"""Demo catalog for `manage.py seed_demo`: every kind, a category tree, a product type with
specifications, and a real-estate programme with a dozen lots. Runs in the demo shop's schema;
does nothing if the shop already has products."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from catalog.models import BaseProduct, TaxRate
from catalog.services.categories import category_save, product_type_save, spec_definition_add
from catalog.services.products import product_create
from catalog.services.projects import project_save
from catalog.services.stock import lot_option, stock_reserve

BIKES = [
    ("BK-ROAD-54", "Randonneur 54", "1249.00", 7, "road", {"frame_size": "54", "gears": "22"}),
    ("BK-ROAD-56", "Randonneur 56", "1249.00", 3, "road", {"frame_size": "56", "gears": "22"}),
    ("BK-CITY-M", "Citadine M", "549.00", 12, "city", {"frame_size": "50", "gears": "7"}),
    ("BK-CITY-L", "Citadine L", "549.00", 1, "city", {"frame_size": "55", "gears": "7"}),
    ("BK-GRAV-54", "Gravel Loire 54", "1690.00", 0, "road", {"frame_size": "54", "gears": "11"}),
]
PARTS = [
    ("PT-TUBE-700", "Inner tube 700x28", "6.50", 140, "25"),
    ("PT-PADS", "Brake pads (pair)", "12.90", 4, "10"),
    ("PT-CHAIN-11", "Chain 11-speed", "34.00", 18, "5"),
    ("PT-LIGHTS", "USB light set", "29.90", 25, "5"),
    ("PT-LOCK", "U-lock 180 mm", "44.00", 9, "3"),
]
SERVICES = [
    ("SV-SERVICE", "Full bike service", "79.00", "unit", 120),
    ("SV-FIT", "Bike fitting session", "60.00", "hour", 90),
    ("SV-RENT", "City bike rental", "15.00", "day", None),
]
VEHICLES = [
    ("VH-ZOE", "Renault Zoe R110", "Renault", "Zoe", 2020, 41000, "VF1AG000X64900001", "13990"),
    ("VH-208", "Peugeot e-208", "Peugeot", "e-208", 2021, 28500, "VR3UHZKXZMT000002", "18490"),
    ("VH-KANGOO", "Renault Kangoo Van", "Renault", "Kangoo", 2019, 76000, "VF1FW000X62000003",
     "12900"),
    ("VH-CARGO", "Cargo bike Long John", "Bullitt", "Classic", 2023, 1200, "WBC0000BULL1T0004",
     "3290"),
]


def seed() -> int:
    if BaseProduct.objects.exists():
        return 0
    vat20 = TaxRate.objects.get(rate=Decimal("20.00"))
    vat55 = TaxRate.objects.get(rate=Decimal("5.50"))
    bikes = category_save(name="Bikes")
    road = category_save(name="Road & gravel", parent=bikes, slug="road")
    city = category_save(name="City", parent=bikes, slug="city")
    parts = category_save(name="Parts & accessories", slug="parts")
    services = category_save(name="Workshop", slug="workshop")
    cars = category_save(name="Vehicles", slug="vehicles")
    homes = category_save(name="New homes", slug="homes")

    bike_type = product_type_save(name="Bike")
    spec_definition_add(product_type=bike_type, label="Frame size", kind="number", unit="cm",
                        required=True)
    spec_definition_add(product_type=bike_type, label="Gears", kind="number")
    spec_definition_add(product_type=bike_type, label="Colour", kind="choice",
                        choices=["Sand", "Forest", "Night"])

    created = 0
    for sku, name, price, stock, cat, specs in BIKES:
        product_create(kind="goods", data={
            "sku": sku, "name": name, "net_price": Decimal(price), "tax_rate": vat20,
            "category": road if cat == "road" else city, "product_type": bike_type,
            "specs": {**specs, "colour": "Forest"}, "weight_kg": Decimal("11.2"),
            "low_stock_threshold": Decimal(2),
            "description": f"<p>{name}: steel frame, hand-built wheels, made to last.</p>"},
            initial_stock=Decimal(stock) if stock else None)
        created += 1
    for sku, name, price, stock, threshold in PARTS:
        product_create(kind="goods", data={
            "sku": sku, "name": name, "net_price": Decimal(price), "tax_rate": vat20,
            "category": parts, "low_stock_threshold": Decimal(threshold)},
            initial_stock=Decimal(stock))
        created += 1
    for sku, name, price, unit, minutes in SERVICES:
        product_create(kind="service", data={
            "sku": sku, "name": name, "net_price": Decimal(price), "tax_rate": vat20,
            "unit": unit, "category": services, "duration_minutes": minutes})
        created += 1
    for sku, name, make, model, year, km, vin, price in VEHICLES:
        product_create(kind="vehicle", data={
            "sku": sku, "name": name, "make": make, "model": model, "year": year,
            "mileage_km": km, "vin": vin, "net_price": Decimal(price), "tax_rate": vat20,
            "category": cars}, initial_stock=Decimal(1))
        created += 1

    project = project_save(data={
        "name": "Les Jardins de Loire", "status": "under_construction",
        "address": "12 quai de la Loire", "city": "Nantes",
        "delivery_date": date.today() + timedelta(days=420),
        "description": "<p>24 homes with gardens and terraces, 5 minutes from the tram.</p>"})
    lots = []
    for floor in range(3):
        for n in range(1, 5):
            number = f"{'ABC'[floor]}{n:02d}"
            rooms = 2 + (n % 3)
            surface = Decimal(38 + rooms * 14 + n)
            lots.append(product_create(kind="lot", data={
                "sku": f"JDL-{number}", "name": f"Jardins de Loire – lot {number}",
                "net_price": (surface * Decimal("4150")).quantize(Decimal("1")),
                "tax_rate": vat55 if n == 1 else vat20, "category": homes, "project": project,
                "lot_number": number, "surface_m2": surface, "rooms": rooms, "floor": floor,
                "orientation": ["S", "SW", "W", "E"][n - 1], "parking_spaces": 1 if n > 1 else 0}))
            created += 1
    stock_reserve(lines=[(lots[0], 1), (lots[5], 1)], by=None, reference="DEMO")
    lot_option(lot=lots[2], until=timezone.now() + timedelta(days=10), by=None, reference="DEMO")
    return created
