"""The demo ontology: an airline, as plain data that ``load_demo_ontology`` feeds to the services.

Entities refer to each other by api name; the loader resolves the names to rows. Every
entity's rid is derived from its kind and api name (:func:`demo_rid`), so the demo is the
same entity on every machine and a later merge or release can recognise it.

The list :data:`ENTITIES` is in dependency order: whatever an entity names comes before it.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

DEMO_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:oms:demo:airline")

Spec = dict[str, Any]


def demo_rid(*path: str) -> uuid.UUID:
    """The stable rid of a demo entity, e.g. ``demo_rid("objectType", "Flight", "flightId")``."""
    return uuid.uuid5(DEMO_NAMESPACE, "/".join(path))


def humanise(api_name: str) -> str:
    """``flightNumber`` -> ``Flight number``."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", api_name).split()
    text = " ".join(w if w.isupper() else w.lower() for w in words)
    return text[:1].upper() + text[1:]


def prop(api_name: str, base_type: str, description: str, **extra: Any) -> Spec:
    """A property (or struct field) spec; ``value_type``/``struct_type``/``shared_property``
    name other demo entities."""
    spec = {"api_name": api_name, "base_type": base_type, "description": description}
    spec.setdefault("display_name", extra.pop("display_name", humanise(api_name)))
    spec.update(extra)
    return spec


def audited() -> list[Spec]:
    """The two properties every ``Auditable`` object type carries."""
    return [
        prop(
            "createdAt",
            "timestamp",
            "When the record was first created in the source system (UTC).",
            shared_property="createdAt",
            required=True,
        ),
        prop(
            "updatedAt",
            "timestamp",
            "When the record was last changed in the source system (UTC).",
            shared_property="updatedAt",
            required=True,
        ),
    ]


def scheduled() -> list[Spec]:
    """The properties every ``Schedulable`` object type carries (plus ``audited()``)."""
    return [
        prop(
            "scheduledStart",
            "timestamp",
            "Planned start of the activity (UTC).",
            shared_property="scheduledStart",
            required=True,
        ),
        prop(
            "scheduledEnd",
            "timestamp",
            "Planned end of the activity (UTC).",
            shared_property="scheduledEnd",
            required=True,
        ),
    ]


def tracked() -> list[Spec]:
    """The properties every ``Trackable`` object type carries (plus ``audited()``)."""
    return [
        prop(
            "lastKnownPosition",
            "geopoint",
            "Latest reported position (WGS 84).",
            shared_property="lastKnownPosition",
        ),
        prop(
            "lastSeenAt",
            "timestamp",
            "When the position was last reported (UTC).",
            shared_property="lastSeenAt",
        ),
    ]


# --- value types ------------------------------------------------------------------------

VALUE_TYPES: list[Spec] = [
    {
        "api_name": "IataAirportCode",
        "display_name": "IATA airport code",
        "description": "Three-letter IATA location identifier of an airport, e.g. LHR, JFK.",
        "base_type": "string",
        "constraints": {"regex": {"pattern": "^[A-Z]{3}$"}, "length": {"min": 3, "max": 3}},
    },
    {
        "api_name": "IcaoAirportCode",
        "display_name": "ICAO airport code",
        "description": "Four-letter ICAO location indicator of an aerodrome, e.g. EGLL, KJFK.",
        "base_type": "string",
        "constraints": {"regex": {"pattern": "^[A-Z]{4}$"}, "length": {"min": 4, "max": 4}},
    },
    {
        "api_name": "IataAirlineCode",
        "display_name": "IATA airline designator",
        "description": "Two-character IATA airline designator, e.g. BA, U2, 9W.",
        "base_type": "string",
        "constraints": {"regex": {"pattern": "^[A-Z0-9]{2}$"}, "length": {"min": 2, "max": 2}},
    },
    {
        "api_name": "IcaoAirlineCode",
        "display_name": "ICAO airline designator",
        "description": "Three-letter ICAO airline designator, e.g. BAW, EZY.",
        "base_type": "string",
        "constraints": {"regex": {"pattern": "^[A-Z]{3}$"}, "length": {"min": 3, "max": 3}},
    },
    {
        "api_name": "FlightNumber",
        "display_name": "Flight number",
        "description": (
            "Marketing or operating flight number: airline designator, one to four digits "
            "and an optional operational suffix, e.g. BA117, U21234A."
        ),
        "base_type": "string",
        "constraints": {
            "regex": {"pattern": "^[A-Z0-9]{2}[0-9]{1,4}[A-Z]?$"},
            "length": {"min": 3, "max": 7},
        },
    },
    {
        "api_name": "TailNumber",
        "display_name": "Aircraft registration",
        "description": "National aircraft registration (tail number), e.g. G-XWBA, N12345.",
        "base_type": "string",
        "constraints": {
            "regex": {"pattern": "^[A-Z0-9]{1,2}-?[A-Z0-9]{1,5}$"},
            "length": {"min": 3, "max": 8},
        },
    },
    {
        "api_name": "BookingReference",
        "display_name": "Booking reference (PNR locator)",
        "description": "Six-character record locator printed on the itinerary, e.g. X7KQ2P.",
        "base_type": "string",
        "constraints": {"regex": {"pattern": "^[A-Z0-9]{6}$"}},
    },
    {
        "api_name": "TicketNumber",
        "display_name": "Ticket number",
        "description": "Thirteen-digit e-ticket number: airline prefix, form and serial number.",
        "base_type": "string",
        "constraints": {"regex": {"pattern": "^[0-9]{13}$"}},
    },
    {
        "api_name": "CountryCode",
        "display_name": "Country code",
        "description": "ISO 3166-1 alpha-2 country code, e.g. GB, US.",
        "base_type": "string",
        "constraints": {"regex": {"pattern": "^[A-Z]{2}$"}},
    },
    {
        "api_name": "EmailAddress",
        "display_name": "Email address",
        "description": "An email address as entered by the customer or employee.",
        "base_type": "string",
        "constraints": {
            "regex": {"pattern": "^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$"},
            "length": {"max": 254},
        },
    },
    {
        "api_name": "SeatClass",
        "display_name": "Seat class",
        "description": "Cabin class sold on a ticket. Compared case-insensitively.",
        "base_type": "string",
        "constraints": {
            "enum": {
                "values": ["ECONOMY", "PREMIUM_ECONOMY", "BUSINESS", "FIRST"],
                "caseInsensitive": True,
            }
        },
    },
    {
        "api_name": "FlightStatusCode",
        "display_name": "Flight status",
        "description": "Operational status of a flight as published to passengers.",
        "base_type": "string",
        "constraints": {
            "enum": {
                "values": [
                    "SCHEDULED",
                    "BOARDING",
                    "DEPARTED",
                    "ARRIVED",
                    "DELAYED",
                    "DIVERTED",
                    "CANCELLED",
                ]
            }
        },
    },
    {
        "api_name": "Percentage",
        "display_name": "Percentage",
        "description": "A share expressed in percent, from 0 to 100 inclusive.",
        "base_type": "double",
        "constraints": {"range": {"min": 0, "max": 100}},
    },
    {
        "api_name": "PositiveInteger",
        "display_name": "Positive integer",
        "description": "A count that is at least one (seats, passengers, minutes).",
        "base_type": "integer",
        "constraints": {"range": {"min": 1}},
    },
    {
        "api_name": "OperatingDate",
        "display_name": "Operating date",
        "description": (
            "Local date on which a flight departs, within the range the schedule systems support."
        ),
        "base_type": "date",
        "constraints": {"range": {"min": "2000-01-01", "max": "2099-12-31"}},
    },
    {
        "api_name": "MealPreferences",
        "display_name": "Meal preferences",
        "description": (
            "Up to three distinct IATA special-meal codes requested by a passenger, e.g. VGML."
        ),
        "base_type": "array",
        "item_type": "string",
        "constraints": {
            "arraySize": {"max": 3},
            "uniqueItems": True,
            "items": {
                "enum": {"values": ["VGML", "VLML", "KSML", "MOML", "GFML", "DBML", "CHML"]},
                "length": {"min": 4, "max": 4},
            },
        },
    },
]

# --- struct types -----------------------------------------------------------------------

STRUCT_TYPES: list[Spec] = [
    {
        "api_name": "PostalAddress",
        "display_name": "Postal address",
        "description": "A postal address, as used for airports, airline offices and customers.",
        "fields": [
            prop("line1", "string", "Street and house number.", required=True),
            prop("line2", "string", "Building, floor or c/o line."),
            prop("city", "string", "City or town.", required=True),
            prop("postalCode", "string", "Postal or ZIP code."),
            prop("countryCode", "string", "ISO 3166-1 alpha-2 country code.", required=True),
        ],
    },
    {
        "api_name": "MonetaryAmount",
        "display_name": "Monetary amount",
        "description": "An amount of money in a given currency.",
        "fields": [
            prop("amount", "decimal", "The amount, in major units (e.g. 129.90).", required=True),
            prop(
                "currency",
                "string",
                "ISO 4217 currency code, e.g. GBP.",
                required=True,
            ),
        ],
    },
]

# --- shared properties ------------------------------------------------------------------

SHARED_PROPERTIES: list[Spec] = [
    prop("createdAt", "timestamp", "When the record was first created in its source system."),
    prop("updatedAt", "timestamp", "When the record was last changed in its source system."),
    prop("scheduledStart", "timestamp", "Planned start of a scheduled activity (UTC)."),
    prop("scheduledEnd", "timestamp", "Planned end of a scheduled activity (UTC)."),
    prop("lastKnownPosition", "geopoint", "Latest reported position of a physical asset."),
    prop("lastSeenAt", "timestamp", "When the position of a physical asset was last reported."),
]

# --- interfaces and object types, in dependency order -----------------------------------

AUDITABLE: Spec = {
    "api_name": "Auditable",
    "display_name": "Auditable",
    "description": "A record that carries its creation and last-change times.",
    "icon": "history",
    "properties": ["createdAt", "updatedAt"],
}

TRACKABLE: Spec = {
    "api_name": "Trackable",
    "display_name": "Trackable asset",
    "description": (
        "A physical asset whose position is reported over time (aircraft, bags). Extends Auditable."
    ),
    "icon": "map-pin",
    "extends": ["Auditable"],
    "properties": ["lastKnownPosition", "lastSeenAt"],
    "link_constraints": [
        {
            "api_name": "currentAirport",
            "display_name": "Current airport",
            "description": "The airport where the asset is, when it is on the ground.",
            "target_object_type": "Airport",
            "cardinality": "ONE",
            "required": False,
        }
    ],
}

SCHEDULABLE: Spec = {
    "api_name": "Schedulable",
    "display_name": "Schedulable activity",
    "description": (
        "An activity planned in time (a flight, a leg, a maintenance slot). Extends Auditable."
    ),
    "icon": "calendar",
    "extends": ["Auditable"],
    "properties": ["scheduledStart", "scheduledEnd"],
    "link_constraints": [
        {
            "api_name": "trackedAssets",
            "display_name": "Tracked assets",
            "description": "The physical assets the activity involves.",
            "target_interface": "Trackable",
            "cardinality": "MANY",
            "required": False,
        }
    ],
}

AIRPORT: Spec = {
    "api_name": "Airport",
    "display_name": "Airport",
    "plural_display_name": "Airports",
    "description": "A civil airport served, or that may be served, by the airline.",
    "icon": "building",
    "visibility": "PROMINENT",
    "primary_key": "iataCode",
    "title_property": "name",
    "interfaces": ["Auditable"],
    "properties": [
        prop(
            "iataCode",
            "string",
            "IATA code; the airport's identifier everywhere in the airline.",
            value_type="IataAirportCode",
            required=True,
            display_name="IATA code",
        ),
        prop(
            "icaoCode",
            "string",
            "ICAO location indicator, used by flight operations.",
            value_type="IcaoAirportCode",
            display_name="ICAO code",
        ),
        prop("name", "string", "Official airport name, e.g. London Heathrow.", required=True),
        prop("city", "string", "City the airport serves."),
        prop("countryCode", "string", "Country of the airport.", value_type="CountryCode"),
        prop("timeZone", "string", "IANA time zone, e.g. Europe/London."),
        prop("location", "geopoint", "Aerodrome reference point."),
        prop("elevationFt", "integer", "Elevation above mean sea level, in feet."),
        prop("address", "struct", "Postal address of the terminal.", struct_type="PostalAddress"),
        *audited(),
    ],
}

OBJECT_TYPES: list[Spec] = [
    {
        "api_name": "Airline",
        "display_name": "Airline",
        "plural_display_name": "Airlines",
        "description": "An operating or marketing carrier, including codeshare partners.",
        "icon": "briefcase",
        "visibility": "PROMINENT",
        "primary_key": "iataCode",
        "title_property": "name",
        "interfaces": ["Auditable"],
        "properties": [
            prop(
                "iataCode",
                "string",
                "IATA designator; the airline's identifier.",
                value_type="IataAirlineCode",
                required=True,
                display_name="IATA code",
            ),
            prop(
                "icaoCode",
                "string",
                "ICAO designator.",
                value_type="IcaoAirlineCode",
                display_name="ICAO code",
            ),
            prop("name", "string", "Trading name, e.g. British Airways.", required=True),
            prop("callsign", "string", "Radio telephony callsign, e.g. SPEEDBIRD."),
            prop("countryCode", "string", "Country of registration.", value_type="CountryCode"),
            prop("alliance", "string", "Alliance membership, if any (oneworld, Star, SkyTeam)."),
            prop(
                "headquarters",
                "struct",
                "Registered office address.",
                struct_type="PostalAddress",
            ),
            *audited(),
        ],
    },
    {
        "api_name": "AircraftModel",
        "display_name": "Aircraft model",
        "plural_display_name": "Aircraft models",
        "description": "A type of aircraft (manufacturer and variant) with its design figures.",
        "icon": "layers",
        "primary_key": "typeDesignator",
        "title_property": "name",
        "properties": [
            prop(
                "typeDesignator",
                "string",
                "ICAO aircraft type designator, e.g. A320, B77W.",
                required=True,
            ),
            prop("name", "string", "Marketing name, e.g. Airbus A320neo.", required=True),
            prop("manufacturer", "string", "Manufacturer, e.g. Airbus, Boeing."),
            prop(
                "typicalSeats",
                "integer",
                "Seats in a typical two-class layout.",
                value_type="PositiveInteger",
            ),
            prop("rangeKm", "integer", "Design range with typical payload, in kilometres."),
            prop("maxTakeoffWeightKg", "double", "Maximum take-off weight, in kilograms."),
            prop("engineCount", "short", "Number of engines."),
        ],
    },
    {
        "api_name": "Aircraft",
        "display_name": "Aircraft",
        "plural_display_name": "Aircraft",
        "description": "One airframe in the fleet, identified by its registration.",
        "icon": "plane",
        "visibility": "PROMINENT",
        "primary_key": "tailNumber",
        "title_property": "tailNumber",
        "interfaces": ["Trackable"],
        "properties": [
            prop(
                "tailNumber",
                "string",
                "Registration painted on the airframe.",
                value_type="TailNumber",
                required=True,
            ),
            prop(
                "typeDesignator",
                "string",
                "The aircraft model (foreign key to AircraftModel).",
                required=True,
            ),
            prop(
                "operatorCode",
                "string",
                "Airline operating the airframe (foreign key to Airline).",
                value_type="IataAirlineCode",
                required=True,
            ),
            prop(
                "seatCount",
                "integer",
                "Installed seats in the current configuration.",
                value_type="PositiveInteger",
            ),
            prop("deliveredOn", "date", "Date the airframe was delivered to the operator."),
            *tracked(),
            *audited(),
        ],
    },
    {
        "api_name": "Gate",
        "display_name": "Gate",
        "plural_display_name": "Gates",
        "description": "A boarding gate or stand at an airport.",
        "icon": "door-open",
        "primary_key": "gateId",
        "title_property": "gateNumber",
        "properties": [
            prop(
                "gateId",
                "string",
                "Airport, terminal and gate, e.g. LHR-T5-A10.",
                required=True,
                display_name="Gate ID",
            ),
            prop("gateNumber", "string", "Gate as shown on screens, e.g. A10.", required=True),
            prop(
                "airportCode",
                "string",
                "Airport of the gate (foreign key to Airport).",
                value_type="IataAirportCode",
                required=True,
            ),
            prop("terminal", "string", "Terminal, e.g. 5."),
            prop("isContactStand", "boolean", "Whether the gate has a jet bridge."),
        ],
    },
    {
        "api_name": "Route",
        "display_name": "Route",
        "plural_display_name": "Routes",
        "description": "A directed city pair the airline flies, e.g. LHR to JFK.",
        "icon": "route",
        "primary_key": "routeId",
        "title_property": "routeId",
        "properties": [
            prop(
                "routeId",
                "string",
                "Origin and destination codes, e.g. LHR-JFK.",
                required=True,
                display_name="Route ID",
            ),
            prop(
                "originCode",
                "string",
                "Departure airport (foreign key to Airport).",
                value_type="IataAirportCode",
                required=True,
            ),
            prop(
                "destinationCode",
                "string",
                "Arrival airport (foreign key to Airport).",
                value_type="IataAirportCode",
                required=True,
            ),
            prop("distanceKm", "integer", "Great-circle distance, in kilometres."),
            prop(
                "blockTimeMinutes",
                "integer",
                "Scheduled gate-to-gate time, in minutes.",
                value_type="PositiveInteger",
            ),
        ],
    },
    {
        "api_name": "Flight",
        "display_name": "Flight",
        "plural_display_name": "Flights",
        "description": (
            "One operation of a flight number on one date, from first departure to last arrival."
        ),
        "icon": "plane-takeoff",
        "visibility": "PROMINENT",
        "primary_key": "flightId",
        "title_property": "flightNumber",
        "interfaces": ["Schedulable"],
        "properties": [
            prop(
                "flightId",
                "string",
                "Flight number and operating date, e.g. BA117-2025-06-01.",
                required=True,
                display_name="Flight ID",
            ),
            prop(
                "flightNumber",
                "string",
                "Operating flight number.",
                value_type="FlightNumber",
                required=True,
            ),
            prop(
                "operatingDate",
                "date",
                "Local departure date.",
                value_type="OperatingDate",
                required=True,
            ),
            prop(
                "airlineCode",
                "string",
                "Operating airline (foreign key to Airline).",
                value_type="IataAirlineCode",
                required=True,
            ),
            prop("routeId", "string", "Route flown (foreign key to Route).", required=True),
            prop(
                "tailNumber",
                "string",
                "Aircraft assigned (foreign key to Aircraft); empty until assigned.",
                value_type="TailNumber",
            ),
            prop(
                "status",
                "string",
                "Current operational status.",
                value_type="FlightStatusCode",
                required=True,
            ),
            prop(
                "loadFactor",
                "double",
                "Share of seats sold, in percent.",
                value_type="Percentage",
            ),
            *scheduled(),
            *audited(),
        ],
    },
    {
        "api_name": "FlightLeg",
        "display_name": "Flight leg",
        "plural_display_name": "Flight legs",
        "description": "One take-off and landing of a flight; a direct flight has one leg.",
        "icon": "arrow-right",
        "primary_key": "legId",
        "title_property": "legId",
        "interfaces": ["Schedulable"],
        "properties": [
            prop(
                "legId",
                "string",
                "Flight ID and leg number, e.g. BA117-2025-06-01-1.",
                required=True,
                display_name="Leg ID",
            ),
            prop("flightId", "string", "The flight (foreign key to Flight).", required=True),
            prop("legNumber", "short", "Position of the leg in the flight, from 1.", required=True),
            prop(
                "departureAirportCode",
                "string",
                "Departure airport (foreign key to Airport).",
                value_type="IataAirportCode",
                required=True,
            ),
            prop(
                "arrivalAirportCode",
                "string",
                "Arrival airport (foreign key to Airport).",
                value_type="IataAirportCode",
                required=True,
            ),
            prop("actualDeparture", "timestamp", "Off-block time (UTC)."),
            prop("actualArrival", "timestamp", "On-block time (UTC)."),
            prop("delayMinutes", "integer", "Arrival delay against schedule, in minutes."),
            *scheduled(),
            *audited(),
        ],
    },
    {
        "api_name": "Passenger",
        "display_name": "Passenger",
        "plural_display_name": "Passengers",
        "description": (
            "A person who travels or has travelled with the airline. Holds personal data: "
            "access is limited to users with the PII grant."
        ),
        "icon": "user",
        "primary_key": "passengerId",
        "title_property": "fullName",
        "interfaces": ["Auditable"],
        "properties": [
            prop(
                "passengerId",
                "string",
                "Opaque customer identifier.",
                required=True,
                display_name="Passenger ID",
            ),
            prop("fullName", "string", "Name as printed in the passport.", pii=True),
            prop("givenName", "string", "Given name(s).", pii=True),
            prop("familyName", "string", "Family name.", pii=True),
            prop("dateOfBirth", "date", "Date of birth.", pii=True),
            prop(
                "email",
                "string",
                "Contact email address.",
                value_type="EmailAddress",
                pii=True,
            ),
            prop("phoneNumber", "string", "Contact phone number in E.164 form.", pii=True),
            prop("passportNumber", "string", "Travel document number.", pii=True),
            prop(
                "nationality",
                "string",
                "Nationality on the travel document.",
                value_type="CountryCode",
            ),
            prop(
                "homeAddress",
                "struct",
                "Home address, for APIS reporting.",
                struct_type="PostalAddress",
                pii=True,
            ),
            prop(
                "mealPreferences",
                "array",
                "Standing special-meal requests.",
                item_type="string",
                value_type="MealPreferences",
            ),
            *audited(),
        ],
    },
    {
        "api_name": "FrequentFlyerAccount",
        "display_name": "Frequent flyer account",
        "plural_display_name": "Frequent flyer accounts",
        "description": "A passenger's loyalty-programme membership; one account per passenger.",
        "icon": "award",
        "primary_key": "membershipNumber",
        "title_property": "membershipNumber",
        "properties": [
            prop("membershipNumber", "string", "Number on the membership card.", required=True),
            prop(
                "passengerId",
                "string",
                "The member (foreign key to Passenger, one account per passenger).",
                required=True,
            ),
            prop("tier", "string", "Current tier, e.g. Blue, Silver, Gold."),
            prop("pointsBalance", "long", "Redeemable points."),
            prop(
                "tierProgress",
                "double",
                "Progress towards the next tier, in percent.",
                value_type="Percentage",
            ),
            prop("enrolledOn", "date", "Date of enrolment."),
        ],
    },
    {
        "api_name": "Booking",
        "display_name": "Booking",
        "plural_display_name": "Bookings",
        "description": "A reservation for one or more passengers, identified by its PNR locator.",
        "icon": "clipboard",
        "primary_key": "bookingReference",
        "title_property": "bookingReference",
        "interfaces": ["Auditable"],
        "properties": [
            prop(
                "bookingReference",
                "string",
                "Record locator given to the customer.",
                value_type="BookingReference",
                required=True,
            ),
            prop("bookedAt", "timestamp", "When the booking was made (UTC).", required=True),
            prop("channel", "string", "Sales channel: web, app, agency or call centre."),
            prop(
                "passengerCount",
                "integer",
                "Passengers on the booking.",
                value_type="PositiveInteger",
            ),
            prop(
                "contactEmail",
                "string",
                "Email for itinerary updates.",
                value_type="EmailAddress",
                pii=True,
            ),
            prop(
                "totalPrice",
                "struct",
                "Total price paid.",
                struct_type="MonetaryAmount",
            ),
            *audited(),
        ],
    },
    {
        "api_name": "PassengerNameRecord",
        "display_name": "Passenger name record (legacy)",
        "plural_display_name": "Passenger name records (legacy)",
        "description": (
            "Reservation records imported from the legacy reservation system. Replaced by "
            "Booking, which holds the same locator and prices."
        ),
        "icon": "archive",
        "visibility": "HIDDEN",
        "status": "DEPRECATED",
        "deprecation_message": (
            "Use Booking: the legacy PNR feed is switched off when the new reservation "
            "system goes live. Booking.bookingReference is the same locator."
        ),
        "deprecation_deadline": "2026-12-31",
        "replaced_by": "Booking",
        "primary_key": "recordLocator",
        "title_property": "recordLocator",
        "properties": [
            prop(
                "recordLocator",
                "string",
                "Legacy record locator.",
                value_type="BookingReference",
                required=True,
            ),
            prop("rawRecord", "string", "The record as exported by the legacy system."),
            prop("importedAt", "timestamp", "When the record was imported (UTC)."),
        ],
    },
    {
        "api_name": "Ticket",
        "display_name": "Ticket",
        "plural_display_name": "Tickets",
        "description": "An electronic ticket issued to one passenger on one booking.",
        "icon": "ticket",
        "primary_key": "ticketNumber",
        "title_property": "ticketNumber",
        "interfaces": ["Auditable"],
        "properties": [
            prop(
                "ticketNumber",
                "string",
                "E-ticket number.",
                value_type="TicketNumber",
                required=True,
            ),
            prop(
                "bookingReference",
                "string",
                "The booking (foreign key to Booking).",
                value_type="BookingReference",
                required=True,
            ),
            prop(
                "passengerId",
                "string",
                "The passenger (foreign key to Passenger).",
                required=True,
            ),
            prop("seatClass", "string", "Cabin sold.", value_type="SeatClass", required=True),
            prop("fareBasis", "string", "Fare basis code, e.g. YLOWGB."),
            prop("issuedAt", "timestamp", "When the ticket was issued (UTC)."),
            prop("fare", "struct", "Fare paid for this ticket.", struct_type="MonetaryAmount"),
            *audited(),
        ],
    },
    {
        "api_name": "Baggage",
        "display_name": "Bag",
        "plural_display_name": "Bags",
        "description": "A checked bag, tracked from drop-off to reclaim.",
        "icon": "luggage",
        "primary_key": "bagTagNumber",
        "title_property": "bagTagNumber",
        "interfaces": ["Trackable"],
        "properties": [
            prop(
                "bagTagNumber", "string", "Ten-digit licence plate on the bag tag.", required=True
            ),
            prop(
                "ticketNumber",
                "string",
                "Ticket the bag travels on (foreign key to Ticket).",
                value_type="TicketNumber",
                required=True,
            ),
            prop("weightKg", "double", "Weight at check-in, in kilograms."),
            prop("isPriority", "boolean", "Whether the bag is tagged priority."),
            *tracked(),
            *audited(),
        ],
    },
    {
        "api_name": "CrewMember",
        "display_name": "Crew member",
        "plural_display_name": "Crew members",
        "description": "A pilot or cabin crew member who can be rostered on flights.",
        "icon": "users",
        "primary_key": "employeeId",
        "title_property": "fullName",
        "properties": [
            prop(
                "employeeId",
                "string",
                "Staff number.",
                required=True,
                display_name="Employee ID",
            ),
            prop("fullName", "string", "Name as on the crew licence.", pii=True),
            prop("email", "string", "Work email.", value_type="EmailAddress", pii=True),
            prop("role", "string", "Captain, first officer, purser or cabin crew."),
            prop(
                "baseAirportCode",
                "string",
                "Home base (foreign key to Airport).",
                value_type="IataAirportCode",
            ),
            prop("licenseNumber", "string", "Licence number.", pii=True),
            prop("hiredOn", "date", "First day of employment."),
        ],
    },
    {
        "api_name": "MaintenanceEvent",
        "display_name": "Maintenance event",
        "plural_display_name": "Maintenance events",
        "description": "A planned or unplanned maintenance work order on one aircraft.",
        "icon": "wrench",
        "primary_key": "workOrderId",
        "title_property": "summary",
        "interfaces": ["Schedulable"],
        "properties": [
            prop(
                "workOrderId",
                "string",
                "Work order number.",
                required=True,
                display_name="Work order ID",
            ),
            prop("summary", "string", "One-line description of the work.", required=True),
            prop(
                "tailNumber",
                "string",
                "The aircraft (foreign key to Aircraft).",
                value_type="TailNumber",
                required=True,
            ),
            prop("checkType", "string", "Line, A-check, C-check or unscheduled."),
            prop("completedAt", "timestamp", "When the aircraft was released to service (UTC)."),
            prop("downtimeHours", "double", "Hours out of service."),
            *scheduled(),
            *audited(),
        ],
    },
    {
        "api_name": "CarbonEstimate",
        "display_name": "Carbon estimate",
        "plural_display_name": "Carbon estimates",
        "description": (
            "Experimental: estimated CO2 emissions per flight leg, for the sustainability "
            "dashboard. The methodology is still under review."
        ),
        "icon": "leaf",
        "status": "EXPERIMENTAL",
        "primary_key": "legId",
        "title_property": "legId",
        "properties": [
            prop(
                "legId",
                "string",
                "The flight leg estimated (foreign key to FlightLeg).",
                required=True,
                display_name="Leg ID",
            ),
            prop("co2Kg", "double", "Estimated CO2 emissions, in kilograms.", display_name="CO2"),
            prop("methodology", "string", "Name and version of the estimation method."),
        ],
    },
]

#: interfaces and object types, each after what it names
ENTITIES: list[tuple[str, Spec]] = [
    ("interface", AUDITABLE),
    ("objectType", AIRPORT),
    ("interface", TRACKABLE),
    ("interface", SCHEDULABLE),
    *[("objectType", spec) for spec in OBJECT_TYPES],
]


def link(
    api_name: str,
    cardinality: str,
    source: str,
    target: str,
    source_side: tuple[str, str],
    target_side: tuple[str, str],
    description: str,
    foreign_key: str | None = None,
) -> Spec:
    """A link type spec. ``source_side`` is how the source sees the target (api name,
    display name); ``target_side`` how the target sees the source."""
    return {
        "api_name": api_name,
        "cardinality": cardinality,
        "source": source,
        "target": target,
        "source_api_name": source_side[0],
        "source_display_name": source_side[1],
        "target_api_name": target_side[0],
        "target_display_name": target_side[1],
        "description": description,
        "foreign_key": foreign_key,
    }


ONE, MANY, M2M = "ONE_TO_ONE", "ONE_TO_MANY", "MANY_TO_MANY"

LINK_TYPES: list[Spec] = [
    link(
        "frequentFlyerAccountPassenger",
        ONE,
        "FrequentFlyerAccount",
        "Passenger",
        ("passenger", "Passenger"),
        ("frequentFlyerAccount", "Frequent flyer account"),
        "A passenger holds at most one loyalty account, and an account belongs to one passenger.",
        "passengerId",
    ),
    link(
        "carbonEstimateFlightLeg",
        ONE,
        "CarbonEstimate",
        "FlightLeg",
        ("flightLeg", "Flight leg"),
        ("carbonEstimate", "Carbon estimate"),
        "The emissions estimate of one flight leg.",
        "legId",
    ),
    link(
        "aircraftModel",
        MANY,
        "Aircraft",
        "AircraftModel",
        ("model", "Model"),
        ("aircraft", "Aircraft"),
        "The model of an airframe.",
        "typeDesignator",
    ),
    link(
        "aircraftOperator",
        MANY,
        "Aircraft",
        "Airline",
        ("operator", "Operator"),
        ("fleet", "Fleet"),
        "The airline operating an airframe.",
        "operatorCode",
    ),
    link(
        "gateAirport",
        MANY,
        "Gate",
        "Airport",
        ("airport", "Airport"),
        ("gates", "Gates"),
        "The airport a gate belongs to.",
        "airportCode",
    ),
    link(
        "routeOrigin",
        MANY,
        "Route",
        "Airport",
        ("origin", "Origin"),
        ("departingRoutes", "Departing routes"),
        "Where a route starts.",
        "originCode",
    ),
    link(
        "routeDestination",
        MANY,
        "Route",
        "Airport",
        ("destination", "Destination"),
        ("arrivingRoutes", "Arriving routes"),
        "Where a route ends.",
        "destinationCode",
    ),
    link(
        "flightAirline",
        MANY,
        "Flight",
        "Airline",
        ("airline", "Operating airline"),
        ("flights", "Flights"),
        "The airline operating a flight.",
        "airlineCode",
    ),
    link(
        "flightRoute",
        MANY,
        "Flight",
        "Route",
        ("route", "Route"),
        ("flights", "Flights"),
        "The route a flight operates on.",
        "routeId",
    ),
    link(
        "flightAircraft",
        MANY,
        "Flight",
        "Aircraft",
        ("aircraft", "Aircraft"),
        ("flights", "Flights"),
        "The airframe assigned to a flight.",
        "tailNumber",
    ),
    link(
        "flightLegFlight",
        MANY,
        "FlightLeg",
        "Flight",
        ("flight", "Flight"),
        ("legs", "Legs"),
        "The flight a leg belongs to.",
        "flightId",
    ),
    link(
        "flightLegDeparture",
        MANY,
        "FlightLeg",
        "Airport",
        ("departureAirport", "Departure airport"),
        ("departingLegs", "Departing legs"),
        "Where a leg takes off.",
        "departureAirportCode",
    ),
    link(
        "flightLegArrival",
        MANY,
        "FlightLeg",
        "Airport",
        ("arrivalAirport", "Arrival airport"),
        ("arrivingLegs", "Arriving legs"),
        "Where a leg lands.",
        "arrivalAirportCode",
    ),
    link(
        "ticketBooking",
        MANY,
        "Ticket",
        "Booking",
        ("booking", "Booking"),
        ("tickets", "Tickets"),
        "The booking a ticket was issued on.",
        "bookingReference",
    ),
    link(
        "ticketPassenger",
        MANY,
        "Ticket",
        "Passenger",
        ("passenger", "Passenger"),
        ("tickets", "Tickets"),
        "The passenger a ticket was issued to.",
        "passengerId",
    ),
    link(
        "baggageTicket",
        MANY,
        "Baggage",
        "Ticket",
        ("ticket", "Ticket"),
        ("bags", "Bags"),
        "The ticket a checked bag travels on.",
        "ticketNumber",
    ),
    link(
        "maintenanceEventAircraft",
        MANY,
        "MaintenanceEvent",
        "Aircraft",
        ("aircraft", "Aircraft"),
        ("maintenanceEvents", "Maintenance events"),
        "The airframe a work order is for.",
        "tailNumber",
    ),
    link(
        "crewMemberBase",
        MANY,
        "CrewMember",
        "Airport",
        ("base", "Home base"),
        ("basedCrew", "Based crew"),
        "The airport a crew member is based at.",
        "baseAirportCode",
    ),
    link(
        "flightCrew",
        M2M,
        "Flight",
        "CrewMember",
        ("crew", "Crew"),
        ("flights", "Flights"),
        "The crew rostered on a flight; a crew member flies many flights.",
    ),
    link(
        "ticketCoupons",
        M2M,
        "Ticket",
        "FlightLeg",
        ("legs", "Flight legs"),
        ("tickets", "Tickets"),
        "The flight legs a ticket's coupons are valid for.",
    ),
    link(
        "airlineHubs",
        M2M,
        "Airline",
        "Airport",
        ("hubs", "Hubs"),
        ("hubAirlines", "Hub airlines"),
        "The airports an airline runs as hubs.",
    ),
    link(
        "codesharePartners",
        M2M,
        "Airline",
        "Airline",
        ("partners", "Codeshare partners"),
        ("partnerOf", "Partner of"),
        "Airlines that sell seats on each other's flights.",
    ),
]
