#!/usr/bin/env python3
"""Drive gongkai's Open311 GeoReport v2 server with real clients from PyPI.

civicbot (JSON) lists the services, reads a service definition, files a request
(with its attributes, checked by civicbot against the definition) and reads it back;
georeport (XML) reads the same through the XML endpoints. Prints one JSON report on
stdout; any failure raises, so the exit status is non-zero with a traceback.

    python tools/open311_client.py --base http://127.0.0.1:8080/open311/v2 \
        --api-key KEY --service cs.light.broken --lat 39.91 --long 116.40 \
        --description "东街路灯不亮" --attribute pole=A-12 --attribute sides=n,s

Used by crates/hotline/tests/open311.rs; also handy against a running demo
(the demo client's key is gongkai_hotline::demo::DEMO_OPEN311_KEY).
"""

import argparse
import json
import sys

from civicbot.http import HttpTransport, RateLimiter
from civicbot.open311 import Open311Client
from civicbot.registry import Endpoint
from georeport import GeoReport


def as_list(x):
    """xmltodict gives one element as a dict and several as a list."""
    if x is None:
        return []
    return x if isinstance(x, list) else [x]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", required=True, help="the endpoint, e.g. http://host/open311/v2")
    ap.add_argument("--api-key", required=True)
    ap.add_argument("--jurisdiction", default=None)
    ap.add_argument("--service", required=True, help="the service_code to file under")
    ap.add_argument("--lat", type=float)
    ap.add_argument("--long", type=float)
    ap.add_argument("--address", default=None)
    ap.add_argument("--description", default="")
    ap.add_argument("--email", default=None)
    ap.add_argument("--phone", default=None)
    ap.add_argument("--attribute", action="append", default=[],
                    help="code=value, or code=v1,v2 for a multi-value list")
    a = ap.parse_args()

    # No politeness delay against a local test server.
    transport = HttpTransport(rate_limiter=RateLimiter(min_interval=0.0))
    endpoint = Endpoint(id="gongkai", name="gongkai 12345", base_url=a.base, write=True)
    client = Open311Client(endpoint, transport=transport, jurisdiction_id=a.jurisdiction)

    services = client.list_services()
    service = next(s for s in services if s["service_code"] == a.service)
    definition = client.get_service_definition(a.service) if service.get("metadata") else None

    attributes = {}
    for kv in a.attribute:
        code, _, value = kv.partition("=")
        multi = definition and any(
            x["code"] == code and x["datatype"] == "multivaluelist" for x in definition["attributes"])
        attributes[code] = value.split(",") if multi else value

    sent = client.create_request(
        a.service, dry_run=False, confirm="SEND", api_key=a.api_key, validate_remote=True,
        lat=a.lat, lng=a.long, address_string=a.address, description=a.description or None,
        email=a.email, phone=a.phone, attributes=attributes)
    created = sent.response[0]
    request_id = created["service_request_id"]
    read_back = client.get_request(request_id)
    listed = client.list_requests(service_code=a.service)

    xml = GeoReport(a.base, jurisdiction=a.jurisdiction, api_key=a.api_key, output_format="xml")
    xml_services = as_list(xml.get_service_list())
    xml_definition = xml.get_service_definition(a.service)
    xml_request = xml.get_service_request(request_id)
    xml_listed = as_list(xml.get_service_requests(service_request_id=request_id))

    report = {
        "services": [s["service_code"] for s in services],
        "definition_codes": [x["code"] for x in (definition or {}).get("attributes", [])],
        "form": sent.redacted_form(),
        "created": created,
        "read_back": read_back,
        "listed_ids": [r["service_request_id"] for r in listed],
        "xml_services": [s["service_code"] for s in xml_services],
        "xml_definition_codes": [x["code"] for x in as_list((xml_definition.get("attributes") or {}).get("attribute"))],
        "xml_request": xml_request,
        "xml_listed_ids": [r["service_request_id"] for r in xml_listed],
    }
    json.dump(report, sys.stdout, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main()
