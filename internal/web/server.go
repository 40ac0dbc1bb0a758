// Package web is grantflow's HTTP face: the Fiber app, its middleware, the
// JSON API handlers and the one error handler that turns *workflow.Error
// codes into statuses. Handlers parse, call one service method and render.
package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"regexp"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"grantflow/internal/auth"
	"grantflow/internal/grants"
	"grantflow/internal/monitor"
	"grantflow/workflow"
)

// Options configure a Server.
type Options struct {
	RequestTimeout time.Duration // deadline of each request's work; default 5 s
	TrustedProxies []string      // addresses whose X-Forwarded-For is believed
	Logger         *slog.Logger  // default: discard
	// ShutdownDrain is how long /readyz answers 503 before the listener
	// closes, so that a load balancer stops sending before connections are refused.
	ShutdownDrain time.Duration
	Monitor       *monitor.Service // monitoring and reminders; default: one on the grants service's database
	// UploadIdle cuts an upload's connection when no byte arrives for this
	// long (default 60 s); UploadMax bounds the whole upload (default 30 min).
	// An upload has no other read deadline, so a slow link that keeps
	// sending is never cut.
	UploadIdle time.Duration
	UploadMax  time.Duration
	// ReadTimeout bounds reading every other request whole, headers and
	// body (default 60 s); tests shorten it.
	ReadTimeout time.Duration
}

// Server is the HTTP application.
type Server struct {
	app      *fiber.App
	svc      *grants.Service
	mon      *monitor.Service
	log      *slog.Logger
	timeout  time.Duration
	drain    time.Duration
	upload   uploadLimits
	stopping atomic.Bool
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	pages    *pageSet
	// verifyThrottle limits public verifications per address (report.go).
	verifyThrottle *auth.Throttle
}

// MaxBody is the largest request body: a 10 MiB receipt plus its form fields.
const MaxBody = 12 << 20

// New builds the app with every route.
func New(svc *grants.Service, o Options) *Server {
	s := &Server{svc: svc, mon: o.Monitor, log: o.Logger, timeout: o.RequestTimeout, drain: o.ShutdownDrain}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.timeout <= 0 {
		s.timeout = 5 * time.Second
	}
	s.upload = uploadLimits{idle: o.UploadIdle, max: o.UploadMax}
	if s.upload.idle <= 0 {
		s.upload.idle = 60 * time.Second
	}
	if s.upload.max <= 0 {
		s.upload.max = 30 * time.Minute
	}
	readTimeout := o.ReadTimeout
	if readTimeout <= 0 {
		readTimeout = 60 * time.Second
	}
	cfg := fiber.Config{
		Immutable: true, // strings from the request outlive the handler
		BodyLimit: MaxBody,
		// Uploads are streamed part by part into the evidence store instead
		// of being buffered whole; JSON bodies are bounded by limitJSON.
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
		ErrorHandler:                 s.handleError,
		DisableStartupMessage:        true,
		// The request line and headers must fit here; fasthttp's 4 KiB
		// default refused a browser carrying a few large cookies.
		ReadBufferSize: 16 << 10,
		// Every request but an upload (see uploadLimits); an upload's
		// connection overrides this deadline while its body streams.
		ReadTimeout:  readTimeout,
		WriteTimeout: 60 * time.Second,
		IdleTimeout:  120 * time.Second,
		AppName:      "grantflow",
		// One process: the session cache, the preview worker and the
		// database pool are per process, and on 2 cores forked children
		// would only compete with PostgreSQL for them.
		Prefork: false,
	}
	if len(o.TrustedProxies) > 0 {
		cfg.EnableTrustedProxyCheck = true
		cfg.TrustedProxies = o.TrustedProxies
		cfg.ProxyHeader = fiber.HeaderXForwardedFor
	}
	s.app = fiber.New(cfg)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "grantflow_http_requests_total", Help: "HTTP requests by route pattern and status."}, []string{"method", "route", "status"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "grantflow_http_request_duration_seconds", Help: "HTTP request latency by route pattern.", Buckets: prometheus.DefBuckets}, []string{"method", "route"})
	reg.MustRegister(s.requests, s.latency)

	s.app.Use(s.observe)
	s.app.Use(recover.New())
	s.app.Use(s.deadline)
	s.app.Use(limitJSON)
	s.app.Get("/healthz", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"status": "ok"}) })
	s.app.Get("/readyz", s.ready)
	s.app.Get("/metrics", adaptor.HTTPHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
	s.routes(s.app.Group("/api/v1"))
	pages, err := loadPages()
	if err != nil {
		panic(err) // embedded templates: a parse error is a build defect, caught by every test
	}
	s.pages = pages
	s.pageRoutes(s.app)
	return s
}

// App returns the Fiber app, for app.Test in tests and for Listen.
func (s *Server) App() *fiber.App { return s.app }

// Listen serves on addr until Shutdown.
func (s *Server) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(ln)
}

// Serve serves on ln until Shutdown, with the per-read idle deadlines that
// uploads need (idleListener).
func (s *Server) Serve(ln net.Listener) error { return s.app.Listener(idleListener{ln}) }

// Shutdown makes /readyz answer 503 at once, keeps serving for the drain
// period, then stops accepting connections and waits up to timeout for
// in-flight requests to finish.
func (s *Server) Shutdown(timeout time.Duration) error {
	s.stopping.Store(true)
	time.Sleep(s.drain)
	return s.app.ShutdownWithTimeout(timeout)
}

func (s *Server) ready(c *fiber.Ctx) error {
	if s.stopping.Load() {
		return workflow.Errorf(workflow.EUnavailable, "server sedang berhenti")
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	if err := s.svc.DB().Ready(ctx); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"status": "ready"})
}

// deadline gives every request a context with a deadline: database work
// stops there, so an unreachable database answers 503 instead of hanging.
// An upload's context bounds receiving the file by the upload ceiling, and
// its connection switches from the server's whole-request read deadline to
// an idle one while the body streams; its database work gets deadlines of
// its own (dbContext) so a slow transfer does not starve it.
func (s *Server) deadline(c *fiber.Ctx) error {
	timeout := s.timeout
	if isMultipart(c) {
		timeout = s.upload.max
		if ic, ok := c.Context().Conn().(*idleConn); ok {
			ic.stream(s.upload)
			defer ic.endStream()
		}
	}
	if isLogin(c) {
		// The throttle's delay is waited inside the login; it must not eat
		// the budget of the password check and the session insert.
		timeout += auth.DefaultLoginLimits().MaxDelay
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c.SetUserContext(ctx)
	return c.Next()
}

// dbContext returns a fresh context with the request deadline, for the
// database work of an upload before and after its body is received.
func (s *Server) dbContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.timeout)
}

// isLogin reports a sign-in post, of the API or of the login page.
func isLogin(c *fiber.Ctx) bool {
	return c.Method() == fiber.MethodPost && (c.Path() == "/api/v1/session" || c.Path() == "/login")
}

func isMultipart(c *fiber.Ctx) bool {
	mt, _, _ := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	return mt == "multipart/form-data"
}

// MaxJSON bounds a JSON request body; larger ones answer 413.
const MaxJSON = 1 << 20

var errJSONTooLarge = workflow.Errorf(workflow.ETooLarge, "isi JSON terlalu besar (maksimal 1 MiB)")

// limitJSON reads every non-multipart body into memory up to MaxJSON and
// refuses larger ones (413). With streamed request bodies the server itself
// does not bound them, and a chunked body has no length to check up front.
//
// Compressed bodies are refused (415): their size says nothing about what
// they unpack to. A multipart body is left to the upload handlers, which
// read it bounded by MaxBody; decodeJSON refuses one on any other route.
func limitJSON(c *fiber.Ctx) error {
	if isMultipart(c) {
		return c.Next()
	}
	if len(c.Request().Header.ContentEncoding()) > 0 {
		return workflow.Errorf(workflow.EUnsupported, "isi permintaan terkompresi tidak diterima")
	}
	if c.Request().Header.ContentLength() > MaxJSON {
		return errJSONTooLarge
	}
	if stream := c.Context().RequestBodyStream(); stream != nil && c.Request().Header.ContentLength() != 0 {
		b, err := io.ReadAll(io.LimitReader(stream, MaxJSON+1))
		if err != nil {
			return workflow.Errorf(workflow.EInvalid, "isi permintaan tidak dapat dibaca")
		}
		if len(b) > MaxJSON {
			return errJSONTooLarge
		}
		c.Request().SetBodyRaw(b)
	}
	return c.Next()
}

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// observe assigns a request id, and logs and counts every request once it is answered.
func (s *Server) observe(c *fiber.Ctx) error {
	start := time.Now()
	id := c.Get(fiber.HeaderXRequestID)
	if !requestIDPattern.MatchString(id) {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		id = hex.EncodeToString(b)
	}
	c.Locals("request_id", id)
	c.Set(fiber.HeaderXRequestID, id)
	err := c.Next()
	if err != nil {
		if herr := s.app.ErrorHandler(c, err); herr != nil {
			_ = c.SendStatus(fiber.StatusInternalServerError)
		}
	}
	status := c.Response().StatusCode()
	route := c.Route().Path
	if status == fiber.StatusNotFound && route == "/" {
		route = "unmatched"
	}
	elapsed := time.Since(start)
	s.requests.WithLabelValues(c.Method(), route, strconv.Itoa(status)).Inc()
	s.latency.WithLabelValues(c.Method(), route).Observe(elapsed.Seconds())
	attrs := []any{"request_id", id, "method", c.Method(), "path", c.Path(), "route", route, "status", status,
		"duration_ms", float64(elapsed.Microseconds()) / 1000, "ip", c.IP()}
	if u, ok := c.Locals("actor").(workflow.Actor); ok {
		attrs = append(attrs, "user_id", u.UserID)
	}
	s.log.Info("request", attrs...)
	return nil
}

// statusOf maps every error code to its HTTP status, in one place.
var statusOf = map[workflow.Code]int{
	workflow.EInvalid:       fiber.StatusBadRequest,
	workflow.EUnprocessable: fiber.StatusUnprocessableEntity,
	workflow.ENotFound:      fiber.StatusNotFound,
	workflow.EConflict:      fiber.StatusConflict,
	workflow.EForbidden:     fiber.StatusForbidden,
	workflow.EUnauthorized:  fiber.StatusUnauthorized,
	workflow.ETooLarge:      fiber.StatusRequestEntityTooLarge,
	workflow.EUnsupported:   fiber.StatusUnsupportedMediaType,
	workflow.ETooMany:       fiber.StatusTooManyRequests,
	workflow.EUnavailable:   fiber.StatusServiceUnavailable,
	workflow.EInternal:      fiber.StatusInternalServerError,
}

// fiberErrors translates Fiber's own errors (unknown route, body too large…).
var fiberErrors = map[int]*workflow.Error{
	fiber.StatusNotFound:              workflow.Errorf(workflow.ENotFound, "alamat tidak ditemukan"),
	fiber.StatusMethodNotAllowed:      workflow.Errorf(workflow.ENotFound, "metode tidak tersedia untuk alamat ini"),
	fiber.StatusRequestEntityTooLarge: workflow.Errorf(workflow.ETooLarge, "isi permintaan terlalu besar (maksimal 12 MiB)"),
	fiber.StatusBadRequest:            workflow.Errorf(workflow.EInvalid, "permintaan tidak valid"),
	fiber.StatusRequestTimeout:        workflow.Errorf(workflow.EUnavailable, "permintaan terlalu lama"),
	// Headers or an address beyond ReadBufferSize: bad input, not a fault.
	fiber.StatusRequestHeaderFieldsTooLarge: workflow.Errorf(workflow.EInvalid, "header permintaan terlalu besar (maksimal 16 KiB)"),
	fiber.StatusRequestURITooLong:           workflow.Errorf(workflow.EInvalid, "alamat permintaan terlalu panjang"),
}

type errorBody struct {
	Error struct {
		Code    workflow.Code     `json:"code"`
		Message string            `json:"message"`
		Details []workflow.Detail `json:"details"`
	} `json:"error"`
}

// handleError is the one error handler: it answers every error as
// {"error":{"code","message","details"}} and logs only internal ones, once.
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	var we *workflow.Error
	var fe *fiber.Error
	switch {
	case errors.As(err, &we):
	case errors.As(err, &fe):
		if mapped, ok := fiberErrors[fe.Code]; ok {
			we = mapped
		} else {
			we = workflow.Wrap(workflow.EInternal, err, "terjadi kesalahan pada server")
		}
	default:
		we = workflow.Wrap(workflow.EInternal, err, "terjadi kesalahan pada server")
	}
	status, ok := statusOf[we.Code]
	if !ok {
		status = fiber.StatusInternalServerError
	}
	var body errorBody
	body.Error.Code, body.Error.Message, body.Error.Details = we.Code, we.Message, boundDetails(we.Details)
	if body.Error.Details == nil {
		body.Error.Details = []workflow.Detail{}
	}
	if we.RetryAfter > 0 {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(we.RetryAfter.Seconds())+1))
	}
	switch we.Code {
	case workflow.EInternal:
		s.log.Error("internal error", "request_id", c.Locals("request_id"), "path", c.Path(), "error", err.Error())
		body.Error.Message = "terjadi kesalahan pada server"
	case workflow.EUnavailable:
		c.Set(fiber.HeaderRetryAfter, "5")
		s.log.Warn("unavailable", "request_id", c.Locals("request_id"), "path", c.Path(), "error", err.Error())
	}
	return c.Status(status).JSON(body)
}

// maxDetails bounds the details of one error response: a form with
// thousands of bad fields gets a small answer, not one line per field.
const maxDetails = 50

// boundDetails keeps the first maxDetails details and says how many more
// there were in one last detail.
func boundDetails(ds []workflow.Detail) []workflow.Detail {
	if len(ds) <= maxDetails {
		return ds
	}
	return append(ds[:maxDetails:maxDetails], workflow.Detail{Message: fmt.Sprintf("… dan %d lainnya", len(ds)-maxDetails)})
}
