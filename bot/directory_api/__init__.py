"""The service directory as an Open Referral UK read API (HSDS 3.0): public, no key, CORS *.

    GET /                                 version, profile, openapi_url
    GET /openapi.json                     this API's OpenAPI description
    GET /services, /services/{id}
    GET /service_at_locations, /service_at_locations/{id}
    GET /organizations, /organizations/{id}
    GET /taxonomies, /taxonomies/{id}
    GET /taxonomy_terms, /taxonomy_terms/{id}

Its own process (`python -m bot.directory_api`, DIRECTORY_API_PORT), reading our database only;
bot.directory.open_data does the reading, bot.directory.hsds the shaping, this package the HTTP.
"""
