package admin

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/augurhq/augur/internal/audit"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/web/kernel"
	"github.com/augurhq/augur/jobs"
)

// adminData is what the admin pages show; each page fills in its part.
type adminData struct {
	Stats     *store.PlatformStats
	Users     []store.User
	Companies []store.Company
	Brokers   []store.Broker
	Queues    []queueRow
	// Failed are the retry and archived tasks of every queue.
	Failed  []jobs.FailedTask
	Servers []serverRow
	// Job, Owner and TaskState are the admin job view's.
	Job       *store.Job
	Owner     *store.User
	TaskState string
	// Schedules are every user's schedules.
	Schedules []store.Schedule
	// Audit is a page of the audit trail, AuditFilter the filters that
	// chose it, and AuditNext the address of the next page ("" = none).
	Audit       []store.AuditEntry
	AuditFilter map[string]string
	AuditNext   string
}

func (s *Server) renderAdmin(c *gin.Context, page, title string, data *adminData) {
	s.Render(c, http.StatusOK, kernel.PageData{Title: title, Page: page, Admin: data})
}

// adminPage is the overview: the platform's figures in one snapshot.
func (s *Server) adminPage(c *gin.Context) {
	st, err := s.DB.PlatformStats(c.Request.Context())
	if err != nil {
		s.FailPage(c, err)
		return
	}
	s.renderAdmin(c, "admin", "Administration", &adminData{Stats: st})
}

func (s *Server) adminUsersPage(c *gin.Context) {
	users, err := s.DB.ListUsers(c.Request.Context())
	if err != nil {
		s.FailPage(c, err)
		return
	}
	s.renderAdmin(c, "admin_users", "Users · Administration", &adminData{Users: users})
}

// adminSchedulesPage lists every user's schedules: what runs when, and
// whose.
func (s *Server) adminSchedulesPage(c *gin.Context) {
	list, err := s.DB.Schedules(c.Request.Context(), 0)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	s.renderAdmin(c, "admin_schedules", "Schedules · Administration", &adminData{Schedules: list})
}

func (s *Server) adminCompaniesPage(c *gin.Context) {
	list, err := s.DB.Companies(c.Request.Context())
	if err != nil {
		s.FailPage(c, err)
		return
	}
	s.renderAdmin(c, "admin_companies", "Companies · Administration", &adminData{Companies: list})
}

func (s *Server) adminBrokersPage(c *gin.Context) {
	list, err := s.DB.Brokers(c.Request.Context())
	if err != nil {
		s.FailPage(c, err)
		return
	}
	s.renderAdmin(c, "admin_brokers", "Brokers · Administration", &adminData{Brokers: list})
}

// formBool reads an optional true/false form field: nil when absent.
func formBool(c *gin.Context, name string) (*bool, error) {
	raw, ok := c.GetPostForm(name)
	if !ok {
		return nil, nil
	}
	b, err := strconv.ParseBool(raw)
	if err != nil {
		return nil, invalid(name, "invalid_boolean", `must be "true" or "false"`)
	}
	return &b, nil
}

// formText reads an optional form field: nil when absent.
func formText(c *gin.Context, name string) *string {
	if raw, ok := c.GetPostForm(name); ok {
		return &raw
	}
	return nil
}

// adminDone ends an admin form's POST: Post/Redirect/Get back to the page
// it came from, with what happened as the flash. A refusal the admin can
// act on is a flash too; a missing thing is a 404 page.
func (s *Server) adminDone(c *gin.Context, back, done string, err error) {
	var api *kernel.Error
	switch {
	case err == nil:
		s.Flash(c, done)
	case errors.As(err, &api):
		s.Flash(c, "Not saved: "+api.Message+".")
	case errors.Is(err, store.ErrLastAdmin):
		s.Flash(c, "Not saved: that is the last active admin. Make another admin first.")
	case errors.Is(err, store.ErrConflict):
		s.Flash(c, "Not saved: one with that name or symbol already exists.")
	case errors.Is(err, store.ErrNotFound), errors.Is(err, jobs.ErrNoTask):
		s.ErrorPage(c, http.StatusNotFound, "Not found", "It does not exist, or no longer does. Go back and reload the page.")
		return
	default:
		s.FailPage(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, back)
}

// adminUpdateUser changes a user's role or active flag from the users page.
func (s *Server) adminUpdateUser(c *gin.Context) {
	var in userUpdate
	err := func() error {
		id, err := pathID(c)
		if err != nil {
			return err
		}
		if in.Role = formText(c, "role"); in.Role != nil {
			if err := checkRole(*in.Role); err != nil {
				return err
			}
		}
		if in.Active, err = formBool(c, "active"); err != nil {
			return err
		}
		_, err = s.changeUser(c, id, in)
		return err
	}()
	s.adminDone(c, "/admin/users", "The account is updated.", err)
}

// adminResetSecondFactor turns off a user's second factor from the users
// page (see resetSecondFactor).
func (s *Server) adminResetSecondFactor(c *gin.Context) {
	s.adminDone(c, "/admin/users", "The user's two-factor sign-in is reset; they sign in with the password alone and every session of theirs is signed out.", s.resetSecondFactor(c))
}

func (s *Server) adminCreateCompany(c *gin.Context) {
	in := companyInput{Symbol: c.PostForm("symbol"), Name: c.PostForm("name"), Exchange: c.PostForm("exchange"), Sector: c.PostForm("sector")}
	co, err := in.company()
	if err == nil {
		_, err = s.DB.CreateCompany(c.Request.Context(), co)
		err = s.Audited(c, audit.Event{Action: audit.CompanyCreated, Target: "company:" + co.Symbol}, err)
	}
	s.adminDone(c, "/admin/companies", "The company "+co.Symbol+" is added.", err)
}

func (s *Server) adminUpdateCompany(c *gin.Context) {
	err := func() error {
		id, err := pathID(c)
		if err != nil {
			return err
		}
		in := companyUpdate{Name: formText(c, "name"), Exchange: formText(c, "exchange"), Sector: formText(c, "sector")}
		if in.Active, err = formBool(c, "active"); err != nil {
			return err
		}
		ch, err := in.change()
		if err != nil {
			return err
		}
		_, err = s.DB.UpdateCompany(c.Request.Context(), id, ch)
		return s.Audited(c, companyUpdated(id, in), err)
	}()
	s.adminDone(c, "/admin/companies", "The company is updated.", err)
}

func (s *Server) adminCreateBroker(c *gin.Context) {
	in := brokerInput{Name: c.PostForm("name"), Email: c.PostForm("email"), CommissionRate: c.PostForm("commission_rate")}
	b, err := in.broker()
	if err == nil {
		_, err = s.DB.CreateBroker(c.Request.Context(), b)
		err = s.Audited(c, audit.Event{Action: audit.BrokerCreated, Target: "broker:" + b.Name}, err)
	}
	s.adminDone(c, "/admin/brokers", "The broker is added.", err)
}

func (s *Server) adminUpdateBroker(c *gin.Context) {
	err := func() error {
		id, err := pathID(c)
		if err != nil {
			return err
		}
		in := brokerUpdate{Name: formText(c, "name"), Email: formText(c, "email"), CommissionRate: formText(c, "commission_rate")}
		if in.Active, err = formBool(c, "active"); err != nil {
			return err
		}
		ch, err := in.change()
		if err != nil {
			return err
		}
		_, err = s.DB.UpdateBroker(c.Request.Context(), id, ch)
		return s.Audited(c, brokerUpdated(id, in), err)
	}()
	s.adminDone(c, "/admin/brokers", "The broker is updated.", err)
}
