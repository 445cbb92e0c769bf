package admin

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

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
}

// queueRow is one queue on the queue panel.
type queueRow struct {
	Name                                   string
	Size, Pending, Active, Retry, Archived int
	// Processed and Failed count today's (UTC) attempts; asynq resets
	// them daily.
	Processed, Failed int
	Latency           string
	Paused            bool
}

// serverRow is one connected worker server.
type serverRow struct {
	ID, Host, Status, Queues string
	PID, Concurrency, Busy   int
	Started                  time.Time
}

// panelQueues are the queues the panel always shows, even before asynq
// has seen a task on one.
var panelQueues = []string{jobs.QueueCritical, jobs.QueueDefault, jobs.QueueLow}

// panelTasks is how many retry and archived tasks of each queue the panel
// lists.
const panelTasks = 50

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

func (s *Server) adminCreateCompany(c *gin.Context) {
	in := companyInput{Symbol: c.PostForm("symbol"), Name: c.PostForm("name"), Exchange: c.PostForm("exchange"), Sector: c.PostForm("sector")}
	co, err := in.company()
	if err == nil {
		_, err = s.DB.CreateCompany(c.Request.Context(), co)
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
		return err
	}()
	s.adminDone(c, "/admin/companies", "The company is updated.", err)
}

func (s *Server) adminCreateBroker(c *gin.Context) {
	in := brokerInput{Name: c.PostForm("name"), Email: c.PostForm("email"), CommissionRate: c.PostForm("commission_rate")}
	b, err := in.broker()
	if err == nil {
		_, err = s.DB.CreateBroker(c.Request.Context(), b)
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
		return err
	}()
	s.adminDone(c, "/admin/brokers", "The broker is updated.", err)
}

// adminQueuesPage is the queue panel: asynq's view of every queue, its
// failed tasks and the connected workers.
func (s *Server) adminQueuesPage(c *gin.Context) {
	stats, err := s.Queue.QueueStats(panelQueues)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	data := &adminData{Queues: make([]queueRow, 0, len(stats))}
	for _, q := range stats {
		row := queueRow{Name: q.Queue, Size: q.Size, Pending: q.Pending, Active: q.Active,
			Retry: q.Retry, Archived: q.Archived, Processed: q.Processed, Failed: q.Failed,
			Latency: q.Latency.Round(time.Millisecond).String(), Paused: q.Paused}
		for _, state := range []string{jobs.StateRetry, jobs.StateArchived} {
			tasks, err := s.Queue.FailedTasks(q.Queue, state, panelTasks)
			if err != nil {
				s.FailPage(c, err)
				return
			}
			data.Failed = append(data.Failed, tasks...)
		}
		data.Queues = append(data.Queues, row)
	}
	servers, err := s.Queue.Servers()
	if err != nil {
		s.FailPage(c, err)
		return
	}
	for _, sv := range servers {
		queues := make([]string, 0, len(sv.Queues))
		for name, weight := range sv.Queues {
			queues = append(queues, name+"="+strconv.Itoa(weight))
		}
		slices.Sort(queues)
		data.Servers = append(data.Servers, serverRow{ID: sv.ID, Host: sv.Host, Status: sv.Status, PID: sv.PID,
			Concurrency: sv.Concurrency, Busy: len(sv.ActiveWorkers), Queues: strings.Join(queues, ", "), Started: sv.Started})
	}
	slices.SortFunc(data.Servers, func(a, b serverRow) int { return strings.Compare(a.Host+a.ID, b.Host+b.ID) })
	s.renderAdmin(c, "admin_queues", "Queues · Administration", data)
}

// panelQueue returns the :queue of a panel action when the panel shows
// that queue, and otherwise ErrNotFound: the panel acts on nothing else.
func (s *Server) panelQueue(c *gin.Context) (string, error) {
	name := c.Param("queue")
	stats, err := s.Queue.QueueStats(panelQueues)
	if err != nil {
		return "", err
	}
	for _, q := range stats {
		if q.Queue == name {
			return name, nil
		}
	}
	return "", store.ErrNotFound
}

// adminPauseQueue and adminResumeQueue stop and restart the workers'
// taking of a queue's tasks; tasks keep arriving meanwhile.
func (s *Server) adminPauseQueue(c *gin.Context)  { s.setPaused(c, true) }
func (s *Server) adminResumeQueue(c *gin.Context) { s.setPaused(c, false) }

func (s *Server) setPaused(c *gin.Context, paused bool) {
	name, err := s.panelQueue(c)
	if err == nil {
		err = s.Queue.SetPaused(name, paused)
	}
	done := "The queue " + name + " is resumed."
	if paused {
		done = "The queue " + name + " is paused: workers take none of its tasks until it is resumed."
	}
	s.adminDone(c, "/admin/queues", done, err)
}

// adminRunTask moves a retry or archived task to pending, to run again,
// reopening its job if that had failed.
func (s *Server) adminRunTask(c *gin.Context) {
	name, err := s.panelQueue(c)
	if err == nil {
		err = jobs.RetryTask(c.Request.Context(), s.DB, s.Queue, name, c.Param("id"))
	}
	switch {
	case errors.Is(err, store.ErrJobFinished):
		s.Flash(c, "Not retried: its job has succeeded or was canceled. Delete the task instead.")
		c.Redirect(http.StatusSeeOther, "/admin/queues")
	case errors.Is(err, jobs.ErrBusy):
		s.Flash(c, "Not retried: the reconciler was busy. Try again in a moment.")
		c.Redirect(http.StatusSeeOther, "/admin/queues")
	default:
		s.adminDone(c, "/admin/queues", "The task is pending again, its job queued: a worker will run it next.", err)
	}
}

// adminDeleteTask removes a retry or archived task; a job still waiting
// on it is closed as failed.
func (s *Server) adminDeleteTask(c *gin.Context) {
	name, err := s.panelQueue(c)
	if err == nil {
		err = jobs.DeleteTask(c.Request.Context(), s.DB, s.Queue, name, c.Param("id"))
	}
	s.adminDone(c, "/admin/queues", "The task is deleted.", err)
}

// adminJobPage shows any user's job to an admin: the queue panel links
// its tasks here. The owner's /jobs/{id} page stays private to the owner,
// whose data it streams; this view shows the job's record and its task.
func (s *Server) adminJobPage(c *gin.Context) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		s.ErrorPage(c, http.StatusNotFound, "No such job", "There is no job at this address.")
		return
	}
	ctx := c.Request.Context()
	job, err := s.DB.Job(ctx, id, 0)
	if errors.Is(err, store.ErrNotFound) {
		s.ErrorPage(c, http.StatusNotFound, "No such job", "There is no job at this address.")
		return
	}
	if err != nil {
		s.FailPage(c, err)
		return
	}
	owner, err := s.DB.UserByID(ctx, job.OwnerID)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	data := &adminData{Job: job, Owner: owner, TaskState: "none: asynq holds no task for it"}
	task, err := s.Queue.Task(job.Queue, job.ID)
	switch {
	case err == nil:
		data.TaskState = task.State.String()
	case !errors.Is(err, jobs.ErrNoTask):
		s.FailPage(c, err)
		return
	}
	s.renderAdmin(c, "admin_job", "Job · Administration", data)
}
