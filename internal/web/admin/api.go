package admin

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/augurhq/augur/internal/audit"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/web/kernel"
)

// adminCompanyView is a company as the admin API shows it.
type adminCompanyView struct {
	ID        int64     `json:"id"`
	Symbol    string    `json:"symbol"`
	Name      string    `json:"name"`
	Exchange  string    `json:"exchange"`
	Sector    string    `json:"sector"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
}

func viewAdminCompany(c *store.Company) adminCompanyView {
	return adminCompanyView{ID: c.ID, Symbol: c.Symbol, Name: c.Name, Exchange: c.Exchange, Sector: c.Sector,
		Active: c.Active, CreatedAt: c.CreatedAt}
}

// adminBrokerView is a broker as the admin API shows it.
type adminBrokerView struct {
	ID             int64     `json:"id"`
	Name           string    `json:"name"`
	Email          string    `json:"email"`
	CommissionRate string    `json:"commission_rate"`
	Active         bool      `json:"active"`
	CreatedAt      time.Time `json:"created_at"`
}

func viewAdminBroker(b *store.Broker) adminBrokerView {
	return adminBrokerView{ID: b.ID, Name: b.Name, Email: b.Email, CommissionRate: b.CommissionRate.String(),
		Active: b.Active, CreatedAt: b.CreatedAt}
}

// adminUserView is an account as the admin API shows it: never its
// password hash.
type adminUserView struct {
	ID        int64     `json:"id"`
	Email     string    `json:"email"`
	Username  string    `json:"username"`
	Role      string    `json:"role"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
}

func viewAdminUser(u *store.User) adminUserView {
	return adminUserView{ID: u.ID, Email: u.Email, Username: u.Username, Role: u.Role, Active: u.Active, CreatedAt: u.CreatedAt}
}

// adminFail answers the admin API's own errors, about the thing named by
// what ("company", "broker", "user"), and leaves the rest to Fail.
func (s *Server) adminFail(c *gin.Context, what string, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		kernel.Abort(c, kernel.NotFound(what))
	case errors.Is(err, store.ErrLastAdmin):
		kernel.Abort(c, &kernel.Error{Status: http.StatusConflict, Code: "last_admin",
			Message: "this is the last active admin: make another admin first"})
	case errors.Is(err, store.ErrConflict):
		field := "name"
		if what == "company" {
			field = "symbol"
		}
		kernel.Abort(c, &kernel.Error{Status: http.StatusConflict, Code: "conflict", Field: field,
			Message: "a " + what + " with this " + field + " already exists"})
	default:
		s.Fail(c, err)
	}
}

// pathID reads the :id of an admin route; anything but a positive integer
// names nothing.
func pathID(c *gin.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, store.ErrNotFound
	}
	return id, nil
}

func (s *Server) apiAdminCompanies(c *gin.Context) {
	list, err := s.DB.Companies(c.Request.Context())
	if err != nil {
		s.Fail(c, err)
		return
	}
	views := make([]adminCompanyView, 0, len(list))
	for i := range list {
		views = append(views, viewAdminCompany(&list[i]))
	}
	c.JSON(http.StatusOK, gin.H{"companies": views})
}

func (s *Server) apiAdminCreateCompany(c *gin.Context) {
	var in companyInput
	if err := kernel.DecodeJSON(c, &in); err != nil {
		s.Fail(c, err)
		return
	}
	co, err := in.company()
	if err != nil {
		s.Fail(c, err)
		return
	}
	created, err := s.DB.CreateCompany(c.Request.Context(), co)
	if err = s.Audited(c, audit.Event{Action: audit.CompanyCreated, Target: "company:" + co.Symbol}, err); err != nil {
		s.adminFail(c, "company", err)
		return
	}
	c.Header("Location", "/api/v1/admin/companies/"+strconv.FormatInt(created.ID, 10))
	c.JSON(http.StatusCreated, viewAdminCompany(created))
}

func (s *Server) apiAdminUpdateCompany(c *gin.Context) {
	var in companyUpdate
	if err := kernel.DecodeJSON(c, &in); err != nil {
		s.Fail(c, err)
		return
	}
	s.updateCompany(c, in)
}

// apiAdminDeactivateCompany stops trading in a company. It is not deleted:
// its transactions and holdings still name it.
func (s *Server) apiAdminDeactivateCompany(c *gin.Context) {
	inactive := false
	s.updateCompany(c, companyUpdate{Active: &inactive})
}

func (s *Server) updateCompany(c *gin.Context, in companyUpdate) {
	id, err := pathID(c)
	if err != nil {
		s.adminFail(c, "company", err)
		return
	}
	ch, err := in.change()
	if err != nil {
		s.Fail(c, err)
		return
	}
	co, err := s.DB.UpdateCompany(c.Request.Context(), id, ch)
	if err = s.Audited(c, companyUpdated(id, in), err); err != nil {
		s.adminFail(c, "company", err)
		return
	}
	c.JSON(http.StatusOK, viewAdminCompany(co))
}

func (s *Server) apiAdminBrokers(c *gin.Context) {
	list, err := s.DB.Brokers(c.Request.Context())
	if err != nil {
		s.Fail(c, err)
		return
	}
	views := make([]adminBrokerView, 0, len(list))
	for i := range list {
		views = append(views, viewAdminBroker(&list[i]))
	}
	c.JSON(http.StatusOK, gin.H{"brokers": views})
}

func (s *Server) apiAdminCreateBroker(c *gin.Context) {
	var in brokerInput
	if err := kernel.DecodeJSON(c, &in); err != nil {
		s.Fail(c, err)
		return
	}
	b, err := in.broker()
	if err != nil {
		s.Fail(c, err)
		return
	}
	created, err := s.DB.CreateBroker(c.Request.Context(), b)
	if err = s.Audited(c, audit.Event{Action: audit.BrokerCreated, Target: "broker:" + b.Name}, err); err != nil {
		s.adminFail(c, "broker", err)
		return
	}
	c.Header("Location", "/api/v1/admin/brokers/"+strconv.FormatInt(created.ID, 10))
	c.JSON(http.StatusCreated, viewAdminBroker(created))
}

func (s *Server) apiAdminUpdateBroker(c *gin.Context) {
	var in brokerUpdate
	if err := kernel.DecodeJSON(c, &in); err != nil {
		s.Fail(c, err)
		return
	}
	s.updateBroker(c, in)
}

// apiAdminDeactivateBroker stops new trades through a broker; past
// transactions still name it.
func (s *Server) apiAdminDeactivateBroker(c *gin.Context) {
	inactive := false
	s.updateBroker(c, brokerUpdate{Active: &inactive})
}

func (s *Server) updateBroker(c *gin.Context, in brokerUpdate) {
	id, err := pathID(c)
	if err != nil {
		s.adminFail(c, "broker", err)
		return
	}
	ch, err := in.change()
	if err != nil {
		s.Fail(c, err)
		return
	}
	b, err := s.DB.UpdateBroker(c.Request.Context(), id, ch)
	if err = s.Audited(c, brokerUpdated(id, in), err); err != nil {
		s.adminFail(c, "broker", err)
		return
	}
	c.JSON(http.StatusOK, viewAdminBroker(b))
}

// apiAdminSchedules lists every user's schedules.
func (s *Server) apiAdminSchedules(c *gin.Context) {
	list, err := s.DB.Schedules(c.Request.Context(), 0)
	if err != nil {
		s.Fail(c, err)
		return
	}
	views := make([]kernel.ScheduleView, len(list))
	for i := range list {
		views[i] = kernel.ViewSchedule(&list[i])
	}
	c.JSON(http.StatusOK, gin.H{"schedules": views})
}

func (s *Server) apiAdminUsers(c *gin.Context) {
	list, err := s.DB.ListUsers(c.Request.Context())
	if err != nil {
		s.Fail(c, err)
		return
	}
	views := make([]adminUserView, 0, len(list))
	for i := range list {
		views = append(views, viewAdminUser(&list[i]))
	}
	c.JSON(http.StatusOK, gin.H{"users": views})
}

// apiAdminUpdateUser changes an account's role or active flag. Either
// change that would leave no active admin is refused with 409; a
// deactivated user's sessions and tokens stop working with their next
// request.
func (s *Server) apiAdminUpdateUser(c *gin.Context) {
	var in userUpdate
	if err := kernel.DecodeJSON(c, &in); err != nil {
		s.Fail(c, err)
		return
	}
	id, err := pathID(c)
	if err != nil {
		s.adminFail(c, "user", err)
		return
	}
	if in.Role != nil {
		if err := checkRole(*in.Role); err != nil {
			s.Fail(c, err)
			return
		}
	}
	u, err := s.changeUser(c, id, in)
	if err != nil {
		s.adminFail(c, "user", err)
		return
	}
	c.JSON(http.StatusOK, viewAdminUser(u))
}

// apiAdminResetSecondFactor turns off a user's second factor: 204.
func (s *Server) apiAdminResetSecondFactor(c *gin.Context) {
	if err := s.resetSecondFactor(c); err != nil {
		s.adminFail(c, "user", err)
		return
	}
	c.Status(http.StatusNoContent)
}

// resetSecondFactor turns off the second factor of the user named by :id
// (their authenticator, recovery codes and passkeys), for a user who lost their
// device. It also signs out every session of theirs, since the factor may
// be in someone else's hands.
func (s *Server) resetSecondFactor(c *gin.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	err = s.DB.RemoveSecondFactors(c.Request.Context(), id, true, true)
	return s.Audited(c, audit.Event{Action: audit.TwoFactorReset, Target: audit.UserTarget(id)}, err)
}

// changeUser applies an admin's change to the user with that id, whole
// or not at all.
func (s *Server) changeUser(c *gin.Context, id int64, in userUpdate) (*store.User, error) {
	ctx := c.Request.Context()
	u, err := s.DB.UserByID(ctx, id)
	if err != nil {
		return nil, err
	}
	ev := audit.Event{Action: audit.UserUpdated, Target: audit.UserTarget(id), Details: map[string]string{}}
	if in.Role != nil {
		ev.Action, ev.Details["role"] = audit.RoleChanged, *in.Role
	}
	if in.Active != nil {
		ev.Details["active"] = strconv.FormatBool(*in.Active)
	}
	// Done, the change and its row commit together; refused, the refusal
	// is recorded on its own.
	rec := s.Audit.Append(ctx, ev)
	changed, err := s.DB.UpdateUserAudited(ctx, u.Username, in.Role, in.Active, rec)
	if err != nil {
		return nil, s.Audited(c, ev, err)
	}
	s.Audit.Emit(rec.Entry)
	// A deactivated user's tokens stop, and a changed role takes effect,
	// with the next request on any replica.
	s.Invalidate(ctx, changed.ID)
	return changed, nil
}
