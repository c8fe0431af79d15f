//! `#[derive(Validate)]` and `ValidJson`: every rule through the derive with its
//! message, wire names, nesting, the schema's keywords, and the body's answers over
//! real HTTP (400/413/415/422, the guard order, a chunked body past the limit).

use secure_api::poem_openapi::{
    self, Enum, OpenApiService,
    payload::{Json, PlainText},
};
use secure_api::{
    prelude::*,
    validation::{BodyLimit, FieldError, RuleError, ValidJson, Validate, ValidationErrors},
};
use secure_api_tests::{Scope, serve_api};
use serde_json::{Value, json};

fn errors(result: Result<impl Sized, ValidationErrors>) -> Vec<FieldError> {
    match result {
        Ok(_) => panic!("expected errors"),
        Err(errors) => errors.errors().to_vec(),
    }
}

/// `(pointer, code, detail)` of each error.
fn summary(result: Result<impl Sized, ValidationErrors>) -> Vec<(String, String, String)> {
    errors(result)
        .into_iter()
        .map(|e| {
            (
                e.pointer.into_owned(),
                e.code.into_owned(),
                e.detail.into_owned(),
            )
        })
        .collect()
}

fn row(pointer: &str, code: &str, detail: &str) -> (String, String, String) {
    (pointer.to_owned(), code.to_owned(), detail.to_owned())
}

#[derive(Validate, Debug)]
struct Strings {
    #[validate(length(min = 2, max = 4))]
    length: String,
    #[validate(length(equal = 3))]
    exact: String,
    #[validate(pattern = r"^\d{3}$")]
    pattern: String,
    #[validate(email)]
    email: String,
    #[validate(url)]
    url: String,
    #[validate(one_of("red", "green"))]
    color: String,
    #[validate(contains = "@")]
    handle: String,
    #[validate(ascii)]
    ascii: String,
    #[validate(alphanumeric)]
    alnum: String,
    #[validate(ascii_alphanumeric)]
    ascii_alnum: String,
    #[validate(printable)]
    printable: String,
}

fn good_strings() -> Value {
    json!({
        "length": "abc", "exact": "xyz", "pattern": "123", "email": "a@example.com",
        "url": "https://example.com", "color": "red", "handle": "@bob", "ascii": "plain",
        "alnum": "Ωmega1", "ascii_alnum": "abc123", "printable": "no controls",
    })
}

#[test]
fn every_string_rule_with_its_message() {
    assert!(Strings::from_json(good_strings()).is_ok());
    let bad = json!({
        "length": "a", "exact": "ab", "pattern": "12a", "email": "nope", "url": "nope",
        "color": "blue", "handle": "bob", "ascii": "naïve", "alnum": "a-b",
        "ascii_alnum": "é", "printable": "a\u{7}",
    });
    assert_eq!(
        summary(Strings::from_json(bad)),
        [
            row("/length", "length", "must be 2 to 4 characters long"),
            row("/exact", "length", "must be exactly 3 characters long"),
            row("/pattern", "pattern", r"must match the pattern ^\d{3}$"),
            row("/email", "email", "must be an e-mail address"),
            row("/url", "url", "must be an absolute URL"),
            row("/color", "one_of", "must be one of: red, green"),
            row("/handle", "contains", "must contain \"@\""),
            row("/ascii", "ascii", "must contain only ASCII characters"),
            row(
                "/alnum",
                "alphanumeric",
                "must contain only letters and digits"
            ),
            row(
                "/ascii_alnum",
                "ascii_alphanumeric",
                "must contain only ASCII letters and digits (a-z, A-Z, 0-9)"
            ),
            row(
                "/printable",
                "printable",
                "must not contain control characters"
            ),
        ]
    );
}

#[test]
fn rejected_values_are_echoed_with_the_rule_parameters() {
    let mut bad = good_strings();
    bad["length"] = json!("abcdefgh");
    bad["color"] = json!("blue");
    let found = errors(Strings::from_json(bad));
    assert_eq!(found[0].value, Some(json!("abcdefgh")));
    assert_eq!(found[0].params["min"], 2);
    assert_eq!(found[0].params["max"], 4);
    assert_eq!(found[1].params["allowed"], json!(["red", "green"]));
}

#[derive(Validate, Debug)]
struct Numbers {
    #[validate(range(min = 1, max = 10))]
    count: u32,
    #[validate(range(exclusive_min = 0.0, exclusive_max = 1.0))]
    ratio: f64,
    #[validate(range(min = -5))]
    offset: i64,
    #[validate(range(max = 2))]
    whole_float: f32,
}

#[test]
fn numbers_with_inclusive_and_exclusive_bounds() {
    let good = json!({"count": 10, "ratio": 0.5, "offset": -5, "whole_float": 2.0});
    assert!(Numbers::from_json(good).is_ok());
    let bad = json!({"count": 0, "ratio": 1.0, "offset": -6, "whole_float": 2.5});
    let found = errors(Numbers::from_json(bad));
    let details: Vec<&str> = found.iter().map(|e| e.detail.as_ref()).collect();
    assert_eq!(
        details,
        [
            "must be at least 1 and at most 10",
            "must be greater than 0 and less than 1",
            "must be at least -5",
            "must be at most 2",
        ]
    );
    assert_eq!(found[0].value, Some(json!(0)));
    assert_eq!(found[1].params["exclusive_max"], json!(1.0));
    let wrong = json!({"count": -1, "ratio": "half", "offset": 1.5, "whole_float": 1});
    assert_eq!(
        summary(Numbers::from_json(wrong)),
        [
            row(
                "/count",
                "type",
                "must be an integer (uint32), not a number"
            ),
            row("/ratio", "type", "must be a number (double), not a string"),
            row(
                "/offset",
                "type",
                "must be an integer (int64), not a number"
            ),
        ],
        "1 is a valid f32"
    );
}

#[derive(Enum, Debug, PartialEq, Eq, Hash, Clone, Copy)]
#[oai(rename_all = "lowercase")]
enum Role {
    Admin,
    User,
}

fn no_empty_names(names: &[String]) -> Result<(), RuleError> {
    match names.iter().any(String::is_empty) {
        true => Err(RuleError::new("no_empty", "must not contain an empty name")),
        false => Ok(()),
    }
}

#[derive(Validate, Debug)]
struct Lists {
    #[validate(length(min = 1, max = 3), unique)]
    tags: Vec<String>,
    #[validate(each(length(max = 3), one_of("a", "bb", "ccc", "dddd")))]
    codes: Vec<String>,
    #[validate(unique)]
    roles: Vec<Role>,
    #[validate(custom = no_empty_names)]
    names: Vec<String>,
    #[validate(each(range(min = 0)))]
    scores: Vec<i32>,
}

#[test]
fn list_length_unique_each_and_item_paths() {
    let good = json!({"tags": ["x"], "codes": ["a", "ccc"], "roles": ["admin"], "names": ["n"], "scores": [0, 1]});
    assert!(Lists::from_json(good).is_ok());
    let bad = json!({
        "tags": ["x", "y", "x", "z"], "codes": ["a", "dddd", "e"], "roles": ["user", "user"],
        "names": ["", "n"], "scores": [1, -1],
    });
    assert_eq!(
        summary(Lists::from_json(bad)),
        [
            row("/tags", "length", "must have 1 to 3 items"),
            row(
                "/tags",
                "unique",
                "must not contain duplicates: item 2 repeats item 0"
            ),
            row("/codes/1", "length", "must be at most 3 characters long"),
            row("/codes/2", "one_of", "must be one of: a, bb, ccc, dddd"),
            row(
                "/roles",
                "unique",
                "must not contain duplicates: item 1 repeats item 0"
            ),
            row("/names", "no_empty", "must not contain an empty name"),
            row("/scores/1", "range", "must be at least 0"),
        ]
    );
    let wrong_items =
        json!({"tags": [1, "x"], "codes": "a", "roles": ["root"], "names": [], "scores": []});
    assert_eq!(
        summary(Lists::from_json(wrong_items)),
        [
            row("/tags/0", "type", "must be a string, not a number"),
            row("/codes", "type", "must be an array, not a string"),
            row("/roles/0", "one_of", "must be one of: admin, user"),
        ]
    );
}

#[derive(Validate, Debug)]
#[validate(rename_all = "camelCase")]
struct Address {
    #[validate(length(min = 1))]
    street_name: String,
    #[validate(pattern = r"^\d{5}$")]
    zip_code: String,
}

#[derive(Validate, Debug)]
#[validate(rename = "Signup", rename_all = "camelCase")]
struct Customer {
    #[validate(rename = "login", length(min = 3))]
    user_name: String,
    home_address: Address,
    #[validate(length(max = 2))]
    other_addresses: Vec<Address>,
    #[validate(email)]
    backup_email: Option<String>,
    #[validate(default = default_language, one_of("en", "fr"))]
    language: String,
    nickname: Option<Address>,
}

fn default_language() -> String {
    "en".to_owned()
}

#[test]
fn nested_models_options_defaults_and_wire_names() {
    let good = json!({
        "login": "bob", "homeAddress": {"streetName": "Main", "zipCode": "12345"},
        "otherAddresses": [],
    });
    let customer = Customer::from_json(good).unwrap();
    assert_eq!(customer.language, "en", "absent: the default");
    assert!(customer.backup_email.is_none(), "absent: not checked");
    let bad = json!({
        "login": "bo", "homeAddress": {"streetName": "", "zipCode": "1", "extra": 1},
        "otherAddresses": [{"streetName": "a", "zipCode": "12345"}, {"zipCode": "x"}],
        "backupEmail": "nope", "language": "de", "nickname": null, "user_name": "rust name",
    });
    assert_eq!(
        summary(Customer::from_json(bad)),
        [
            row("/login", "length", "must be at least 3 characters long"),
            row(
                "/homeAddress/streetName",
                "length",
                "must be at least 1 character long"
            ),
            row(
                "/homeAddress/zipCode",
                "pattern",
                r"must match the pattern ^\d{5}$"
            ),
            row(
                "/homeAddress/extra",
                "unknown_field",
                "is not a field of this object, which has: streetName, zipCode"
            ),
            row("/otherAddresses/1/streetName", "required", "is required"),
            row(
                "/otherAddresses/1/zipCode",
                "pattern",
                r"must match the pattern ^\d{5}$"
            ),
            row("/backupEmail", "email", "must be an e-mail address"),
            row("/language", "one_of", "must be one of: en, fr"),
            row(
                "/user_name",
                "unknown_field",
                "is not a field of this object, which has: login, homeAddress, otherAddresses, \
                 backupEmail, language, nickname"
            ),
        ]
    );
    let not_object = Customer::from_json(json!([1]));
    assert_eq!(
        summary(not_object),
        [row("", "type", "must be a Signup object, not an array")]
    );
}

#[test]
fn validate_checks_values_built_in_code_with_the_same_rules() {
    let customer = Customer {
        user_name: "al".into(),
        home_address: Address {
            street_name: "Main".into(),
            zip_code: "nope".into(),
        },
        other_addresses: vec![],
        backup_email: Some("x".into()),
        language: "en".into(),
        nickname: Some(Address {
            street_name: String::new(),
            zip_code: "12345".into(),
        }),
    };
    let pointers: Vec<String> = errors(customer.validate())
        .into_iter()
        .map(|e| e.pointer.into_owned())
        .collect();
    assert_eq!(
        pointers,
        [
            "/login",
            "/homeAddress/zipCode",
            "/backupEmail",
            "/nickname/streetName"
        ]
    );
}

fn password_differs(signup: &Account) -> Result<(), RuleError> {
    match signup
        .password
        .to_lowercase()
        .contains(&signup.username.to_lowercase())
    {
        true => {
            Err(RuleError::new("contains_username", "must not contain the username").at("password"))
        }
        false => Ok(()),
    }
}

fn not_reserved(name: &str) -> Result<(), RuleError> {
    match name {
        "root" | "admin" => Err(RuleError::new("reserved", "is reserved").param("name", name)),
        _ => Ok(()),
    }
}

fn both_or_neither(account: &Account) -> Result<(), Vec<RuleError>> {
    match (&account.api_token, &account.pin) {
        (Some(_), None) | (None, Some(_)) => Err(vec![
            RuleError::new("together", "must be given with `pin`").at("api_token"),
            RuleError::new("together", "must be given with `apiToken`").at("pin"),
        ]),
        _ => Ok(()),
    }
}

#[derive(Validate, Debug)]
#[validate(rename_all = "camelCase", custom = password_differs, custom = both_or_neither, allow_unknown_fields)]
struct Account {
    #[validate(custom = not_reserved)]
    username: String,
    #[validate(password)]
    password: String,
    #[validate(length(min = 20))]
    api_token: Option<String>,
    #[validate(secret, length(equal = 4))]
    pin: Option<String>,
}

#[test]
fn custom_rules_for_a_field_and_the_whole_model() {
    let good = json!({"username": "bob", "password": "correct horse battery staple", "ignored": 1});
    assert!(Account::from_json(good).is_ok(), "unknown fields allowed");
    let bad =
        json!({"username": "root", "password": "my root password is long", "apiToken": "short"});
    let found = errors(Account::from_json(bad));
    let rows: Vec<(&str, &str)> = found
        .iter()
        .map(|e| (e.pointer.as_ref(), e.code.as_ref()))
        .collect();
    assert_eq!(
        rows,
        [
            ("/username", "reserved"),
            ("/apiToken", "length"),
            ("/password", "contains_username"),
            ("/apiToken", "together"),
            ("/pin", "together"),
        ]
    );
    assert_eq!(found[0].params["name"], "root");
    assert_eq!(found[0].value, Some(json!("root")));
    assert_eq!(found[1].value, None, "a token is a secret: never echoed");
}

#[test]
fn the_nist_password_rule_by_default() {
    let short = json!({"username": "bob", "password": "Tr0ub4dor&3"});
    assert_eq!(
        summary(Account::from_json(short)),
        [row(
            "/password",
            "length",
            "must be at least 15 characters long"
        )]
    );
    let common = json!({"username": "bob", "password": "qwertyuiop12345"});
    let found = errors(Account::from_json(common));
    assert_eq!(found[0].code, "common_password");
    assert_eq!(found[0].value, None);
    let typed = json!({"username": "bob", "password": 123456789012345_u64, "pin": 1234});
    let found = errors(Account::from_json(typed));
    assert_eq!(found.len(), 2);
    assert!(
        found.iter().all(|e| e.code == "type" && e.value.is_none()),
        "{found:?}"
    );
}

#[derive(Validate, Debug)]
struct Inner {
    #[validate(range(max = 1))]
    level: u8,
}

#[derive(Validate, Debug)]
struct Outer {
    items: Vec<Option<Inner>>,
    more: Option<Vec<Inner>>,
}

#[test]
fn models_nested_in_lists_and_options() {
    let bad = json!({"items": [null, {"level": 2}], "more": [{"level": 1}, {"level": 3}]});
    let pointers: Vec<String> = errors(Outer::from_json(bad))
        .into_iter()
        .map(|e| e.pointer.into_owned())
        .collect();
    assert_eq!(pointers, ["/items/1/level", "/more/1/level"]);
    let outer = Outer {
        items: vec![Some(Inner { level: 5 })],
        more: Some(vec![Inner { level: 0 }, Inner { level: 9 }]),
    };
    let pointers: Vec<String> = errors(outer.validate())
        .into_iter()
        .map(|e| e.pointer.into_owned())
        .collect();
    assert_eq!(pointers, ["/items/0/level", "/more/1/level"]);
}

#[test]
fn a_hostile_body_gets_at_most_100_errors() {
    let items: Vec<Value> = (0..500).map(|_| json!(1)).collect();
    let body = json!({"tags": items, "codes": [], "roles": [], "names": [], "scores": []});
    let Err(errors) = Lists::from_json(body) else {
        panic!("numbers are no tags");
    };
    assert_eq!(errors.errors().len(), 100);
    assert_eq!(
        errors.count(),
        500,
        "the list's own rules need its items read"
    );
}

#[test]
fn the_schema_carries_every_rule() {
    let api = OpenApiService::new(ValidatedApi, "test", "1");
    let doc: Value = serde_json::from_str(&secure_api::openapi::spec(&api)).unwrap();
    let schemas = &doc["components"]["schemas"];
    let strings = &schemas["Strings"]["properties"];
    assert_eq!(strings["length"]["minLength"], 2);
    assert_eq!(strings["length"]["maxLength"], 4);
    assert_eq!(strings["exact"]["minLength"], 3);
    assert_eq!(strings["exact"]["maxLength"], 3);
    assert_eq!(strings["pattern"]["pattern"], r"^\d{3}$");
    assert_eq!(strings["email"]["format"], "email");
    assert_eq!(strings["url"]["format"], "uri");
    assert_eq!(strings["color"]["enum"], json!(["red", "green"]));
    assert_eq!(strings["ascii_alnum"]["pattern"], "^[a-zA-Z0-9]*$");
    assert_eq!(schemas["Strings"]["additionalProperties"], false);
    let numbers = &schemas["Numbers"]["properties"];
    assert_eq!(numbers["count"]["minimum"], 1.0);
    assert_eq!(numbers["count"]["maximum"], 10.0);
    assert_eq!(numbers["ratio"]["exclusiveMinimum"], true);
    assert_eq!(numbers["ratio"]["exclusiveMaximum"], true);
    let lists = &schemas["Lists"]["properties"];
    assert_eq!(lists["tags"]["minItems"], 1);
    assert_eq!(lists["tags"]["maxItems"], 3);
    assert_eq!(lists["tags"]["uniqueItems"], true);
    assert_eq!(lists["codes"]["items"]["maxLength"], 3);
    assert_eq!(
        lists["codes"]["items"]["enum"],
        json!(["a", "bb", "ccc", "dddd"])
    );
    assert_eq!(lists["scores"]["items"]["minimum"], 0.0);
    let signup = &schemas["Signup"];
    assert_eq!(signup["properties"]["login"]["minLength"], 3);
    assert_eq!(
        signup["properties"]["homeAddress"]["$ref"],
        "#/components/schemas/Address"
    );
    assert_eq!(signup["properties"]["language"]["default"], "en");
    assert_eq!(
        signup["required"],
        json!(["login", "homeAddress", "otherAddresses"])
    );
    let account = &schemas["Account"];
    assert!(
        account.get("additionalProperties").is_none(),
        "allow_unknown_fields"
    );
    assert_eq!(account["properties"]["password"]["format"], "password");
    assert_eq!(account["properties"]["password"]["minLength"], 15);
    assert_eq!(account["properties"]["password"]["maxLength"], 128);
    assert_eq!(account["properties"]["password"]["writeOnly"], true);
    assert_eq!(account["properties"]["pin"]["writeOnly"], true);
    assert_eq!(account["properties"]["apiToken"]["writeOnly"], true);
    assert!(account["properties"]["username"].get("writeOnly").is_none());

    let create = &doc["paths"]["/strings"]["post"];
    for status in ["400", "413", "415", "422"] {
        assert_eq!(
            create["responses"][status]["content"]["application/problem+json"]["schema"]["$ref"]
                .as_str()
                .map(|r| r.ends_with("Problem")),
            Some(true),
            "{status}: {create:#}"
        );
    }
    assert!(doc["paths"]["/open"]["get"]["responses"]["422"].is_null());
}

struct ValidatedApi;

#[secure_api(scopes = Scope)]
impl ValidatedApi {
    /// Strings, behind a scope
    #[oai(path = "/strings", method = "post")]
    #[requires_scopes("users:write")]
    async fn strings(&self, ValidJson(body): ValidJson<Strings>) -> PlainText<String> {
        PlainText(body.color)
    }

    /// Numbers, no guard
    #[oai(path = "/numbers", method = "post")]
    async fn numbers(&self, body: ValidJson<Numbers>) -> Json<u32> {
        Json(body.count)
    }

    /// Lists, with a response enum that has its own bad-request handler
    #[oai(path = "/lists", method = "post")]
    async fn lists(&self, body: ValidJson<Lists>) -> ListsResponse {
        ListsResponse::Ok(Json(body.tags.len() as u32))
    }

    /// Customers, with nested models
    #[oai(path = "/customers", method = "post")]
    async fn customers(&self, body: ValidJson<Customer>) -> Json<String> {
        Json(body.0.home_address.zip_code)
    }

    /// Accounts, with secrets
    #[oai(path = "/accounts", method = "post")]
    async fn accounts(&self, body: ValidJson<Account>) -> Json<String> {
        Json(body.0.username)
    }

    /// Nothing validated
    #[oai(path = "/open", method = "get")]
    async fn open(&self) -> PlainText<&'static str> {
        PlainText("open")
    }
}

#[derive(poem_openapi::ApiResponse)]
#[oai(bad_request_handler = "bad_request")]
enum ListsResponse {
    /// How many tags
    #[oai(status = 200)]
    Ok(Json<u32>),
    /// The response's own answer to other extraction errors
    #[oai(status = 400)]
    BadRequest(PlainText<String>),
}

fn bad_request(error: secure_api::poem::Error) -> ListsResponse {
    ListsResponse::BadRequest(PlainText(error.to_string()))
}

struct Client {
    base: String,
    http: reqwest::Client,
    token: String,
}

impl Client {
    async fn start(limit: Option<BodyLimit>) -> Client {
        let server = serve_api(ValidatedApi, limit).await;
        let token = server.token("alice", &["users:write"]);
        Client {
            base: server.base.clone(),
            http: server.client.clone(),
            token,
        }
    }

    async fn post(
        &self,
        path: &str,
        content_type: Option<&str>,
        body: String,
    ) -> reqwest::Response {
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        request.send().await.unwrap()
    }
}

#[tokio::test]
async fn a_valid_body_reaches_the_handler() {
    let client = Client::start(None).await;
    let response = client
        .post(
            "/strings",
            Some("application/json"),
            good_strings().to_string(),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "red");
    let numbers = json!({"count": 3, "ratio": 0.1, "offset": 0, "whole_float": 0});
    let response = client
        .post(
            "/numbers",
            Some("application/vnd.api+json; charset=utf-8"),
            numbers.to_string(),
        )
        .await;
    assert_eq!(response.status(), 200, "any application/*+json");
}

#[tokio::test]
async fn guards_run_before_the_body_is_read() {
    let client = Client::start(None).await;
    let response = client
        .http
        .post(format!("{}/strings", client.base))
        .header("content-type", "text/plain")
        .body("not even json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401, "no token: 401, not 415");
}

#[tokio::test]
async fn the_body_answers() {
    let client = Client::start(None).await;
    let invalid = client
        .post(
            "/numbers",
            Some("application/json"),
            json!({"count": 0}).to_string(),
        )
        .await;
    assert_eq!(invalid.status(), 422);
    assert_eq!(
        invalid.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = invalid.json().await.unwrap();
    assert_eq!(problem["title"], "Unprocessable Entity");
    assert_eq!(
        problem["detail"],
        "The body breaks 4 rules; each is listed in `errors`."
    );
    assert_eq!(problem["errors"][0]["pointer"], "/count");

    let no_type = client.post("/numbers", None, "{}".to_owned()).await;
    assert_eq!(no_type.status(), 415);
    let problem: Value = no_type.json().await.unwrap();
    assert_eq!(problem["status"], 415);

    let empty = client
        .post("/numbers", Some("application/json"), String::new())
        .await;
    assert_eq!(empty.status(), 400);
    let problem: Value = empty.json().await.unwrap();
    assert_eq!(
        problem["errors"][0]["detail"],
        "is empty: send a JSON object"
    );

    let garbage = client
        .post(
            "/numbers",
            Some("application/json"),
            "{\"count\": 1,}".to_owned(),
        )
        .await;
    assert_eq!(garbage.status(), 400);
    let problem: Value = garbage.json().await.unwrap();
    assert_eq!(problem["errors"][0]["code"], "json_syntax");
    assert_eq!(problem["errors"][0]["params"]["line"], 1);

    // The response type's own bad-request handler does not swallow these answers.
    let lists = client
        .post("/lists", Some("application/json"), "[]".to_owned())
        .await;
    assert_eq!(lists.status(), 422);
    assert_eq!(lists.headers()["content-type"], "application/problem+json");
}

#[tokio::test]
async fn the_configured_limit_by_length_and_while_reading_a_chunked_body() {
    let client = Client::start(Some(BodyLimit::bytes(64))).await;
    let big =
        json!({"count": 1, "ratio": 0.5, "offset": 0, "whole_float": 0, "pad": "x".repeat(100)});
    let response = client
        .post("/numbers", Some("application/json"), big.to_string())
        .await;
    assert_eq!(response.status(), 413);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["detail"], "the body is larger than 64 bytes");

    // No Content-Length: the body streams in chunks and is cut at the limit.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = client.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /numbers HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for _ in 0..8 {
        let chunk = "[".repeat(32);
        // The server may answer and close before every chunk is sent.
        if stream
            .write_all(format!("{:x}\r\n{chunk}\r\n", chunk.len()).as_bytes())
            .await
            .is_err()
        {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    pub(super) fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            ".{0,40}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::from),
                prop::collection::btree_map(
                    prop_oneof![
                        Just("tags".to_owned()),
                        Just("codes".to_owned()),
                        Just("homeAddress".to_owned()),
                        Just("login".to_owned()),
                        ".{0,10}"
                    ],
                    inner,
                    0..8
                )
                .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    /// A body shaped like the models, with any value in any field.
    fn shaped(fields: &'static [&'static str]) -> impl Strategy<Value = Value> {
        prop::collection::vec(json_value(), fields.len()).prop_map(move |values| {
            Value::Object(fields.iter().map(|f| f.to_string()).zip(values).collect())
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn no_json_value_makes_validation_panic(value in json_value()) {
            let _ = Strings::from_json(value.clone());
            let _ = Lists::from_json(value.clone());
            let _ = Customer::from_json(value.clone());
            let _ = Account::from_json(value);
        }

        #[test]
        fn no_field_value_makes_validation_panic(
            strings in shaped(&["length", "exact", "pattern", "email", "url", "color", "handle", "ascii", "alnum", "ascii_alnum", "printable"]),
            lists in shaped(&["tags", "codes", "roles", "names", "scores"]),
            customer in shaped(&["login", "homeAddress", "otherAddresses", "backupEmail", "language", "nickname"]),
            numbers in shaped(&["count", "ratio", "offset", "whole_float"]),
        ) {
            let _ = Strings::from_json(strings);
            let _ = Lists::from_json(lists);
            let _ = Customer::from_json(customer);
            let _ = Numbers::from_json(numbers);
        }

        #[test]
        fn no_string_makes_a_rule_panic(text in any::<String>()) {
            let value = json!({"username": text, "password": text, "apiToken": text, "pin": text});
            let _ = Account::from_json(value);
            let mut body = good_strings();
            for field in ["length", "exact", "pattern", "email", "url", "color", "handle", "ascii", "alnum", "ascii_alnum", "printable"] {
                body[field] = Value::from(text.clone());
            }
            if let Err(errors) = Strings::from_json(body) {
                for error in errors.errors() {
                    prop_assert!(!error.detail.is_empty());
                    prop_assert!(error.pointer.starts_with('/'));
                }
            }
        }
    }
}

/// `ValidJson` reads a model of text, integer and boolean fields straight from the
/// body; it must answer exactly as the `Value` pass (`from_json`), which it falls back
/// to, whatever the body.
mod the_fast_read_answers_as_the_value_pass {
    use super::*;
    use proptest::prelude::*;

    #[derive(Validate, Debug, PartialEq)]
    #[validate(custom = nick_differs)]
    struct Profile {
        #[validate(length(min = 2, max = 5), pattern = r"^[a-z]+$")]
        name: String,
        #[validate(email)]
        nick: Option<String>,
        #[validate(default, each(one_of("a", "b")))]
        tags: Vec<String>,
        #[validate(password(min_length = 8, composition))]
        password: String,
    }

    fn nick_differs(profile: &Profile) -> Result<(), RuleError> {
        match profile.nick.as_deref() == Some(profile.name.as_str()) {
            true => Err(RuleError::new("same", "must differ from the name").at("nick")),
            false => Ok(()),
        }
    }

    #[derive(Validate, Debug, PartialEq)]
    #[validate(allow_unknown_fields, rename_all = "camelCase")]
    struct Open {
        #[validate(length(max = 3))]
        short_code: String,
        label: Option<String>,
        #[validate(length(max = 2))]
        tags: Vec<String>,
    }

    #[derive(Validate, Debug, PartialEq)]
    struct Counts {
        #[validate(range(min = -5, max = 5))]
        delta: i8,
        #[validate(range(max = 1000))]
        total: Option<u64>,
        #[validate(default)]
        active: bool,
        size: usize,
    }

    fn same_answer<T: Validate + PartialEq + std::fmt::Debug>(
        body: &[u8],
    ) -> Result<bool, TestCaseError> {
        let Some(direct) = T::__read_direct(body) else {
            return Ok(false);
        };
        let value: Value = serde_json::from_slice(body).expect("read straight, so it is JSON");
        let checked = direct.validate().map(|()| direct);
        prop_assert_eq!(checked, T::from_json(value));
        Ok(true)
    }

    #[test]
    fn bodies_of_text_are_read_straight() {
        let body = br#"{"name": "x!", "nick": "nope", "tags": ["c"], "password": "short"}"#;
        assert!(same_answer::<Profile>(body).unwrap());
        assert!(same_answer::<Profile>(br#"{"name": "bob", "password": "Sup3r-secret"}"#).unwrap());
        assert!(
            same_answer::<Open>(br#"{"shortCode": "abcd", "x": [1, {}], "tags": []}"#).unwrap()
        );
        // A wrong type or an unknown field goes through the `Value` pass.
        assert!(!same_answer::<Profile>(br#"{"name": 1, "password": "x"}"#).unwrap());
        assert!(!same_answer::<Profile>(br#"{"name": "bob", "password": "x", "x": 1}"#).unwrap());
        // And a body the `Value` pass refuses, even where the model skips a field.
        let deep = format!(
            r#"{{"shortCode": "a", "tags": [], "x": {}{}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        assert!(Open::__read_direct(deep.as_bytes()).is_none());
        // So does a model with a field that is not text.
        assert!(
            Lists::__read_direct(
                br#"{"tags": [], "codes": [], "roles": [], "names": [], "scores": []}"#
            )
            .is_none()
        );
    }

    /// Any JSON value as text, and numbers that sit on the edges of the types.
    fn any_json() -> BoxedStrategy<String> {
        prop_oneof![
            3 => never_panics::json_value().prop_map(|value| value.to_string()),
            1 => prop::sample::select(&["-0", "1.0", "1e2", "-1", "256", "18446744073709551615", "-9223372036854775809"][..])
                .prop_map(str::to_owned),
        ]
        .boxed()
    }

    /// A value of the field's type most of the time, anything else sometimes.
    fn text() -> BoxedStrategy<String> {
        prop_oneof![6 => "[a-zA-Z0-9!@. _-]{0,12}".prop_map(|text| json!(text).to_string()), 1 => any_json()].boxed()
    }

    fn texts() -> BoxedStrategy<String> {
        prop_oneof![6 => prop::collection::vec("[a-c]{0,2}", 0..4).prop_map(|texts| json!(texts).to_string()), 1 => any_json()].boxed()
    }

    fn integer() -> BoxedStrategy<String> {
        prop_oneof![6 => (-300i64..300).prop_map(|n| n.to_string()), 1 => any_json()].boxed()
    }

    fn boolean() -> BoxedStrategy<String> {
        prop_oneof![6 => any::<bool>().prop_map(|b| b.to_string()), 1 => Just("null".to_owned()), 1 => any_json()].boxed()
    }

    /// A body as text: each field most of the time, with a value mostly of its type;
    /// sometimes another field or one given twice.
    fn body(
        fields: Vec<(&'static str, BoxedStrategy<String>)>,
        others: &'static [&'static str],
    ) -> impl Strategy<Value = String> {
        let present: Vec<_> = fields
            .into_iter()
            .map(|(key, value)| {
                prop::option::weighted(0.9, value.prop_map(move |value| (key, value)))
            })
            .collect();
        let extra = prop_oneof![
            3 => Just(Vec::new()),
            1 => prop::collection::vec((prop::sample::select(others), any_json()), 1..3),
        ];
        (present, extra).prop_map(|(present, extra)| {
            let fields: Vec<String> = present
                .into_iter()
                .flatten()
                .chain(extra)
                // Written as is, so a key may be escaped (`n\u0061me` is `name`).
                .map(|(key, value)| format!("\"{key}\": {value}"))
                .collect();
            format!("{{{}}}", fields.join(", "))
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        #[test]
        fn for_any_body(
            profile in body(
                vec![("name", text()), ("nick", text()), ("tags", texts()), ("password", text())],
                &["name", "password", "other", "n\\u0061me"],
            ),
            open in body(
                vec![("shortCode", text()), ("label", text()), ("tags", texts())],
                &["short_code", "more", "tags"],
            ),
            counts in body(
                vec![("delta", integer()), ("total", integer()), ("active", boolean()), ("size", integer())],
                &["size", "other"],
            ),
        ) {
            same_answer::<Profile>(profile.as_bytes())?;
            same_answer::<Open>(open.as_bytes())?;
            same_answer::<Counts>(counts.as_bytes())?;
        }
    }
}
